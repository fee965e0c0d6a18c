"""End to end in a browser: ns-viewer serves the avatar, a slider moves, the rendered head changes."""

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from headless_chromium import CHROMIUM, ChromiumPage

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.is_file(), reason="needs Debian's chromium at /usr/bin/chromium"),
]

CANVAS = (slice(100, 560), slice(40, 540))
"""Rows and columns of the render in the 900×613 viewport of a 900×700 window, clear of the panel and axes gizmo."""

# The control whose label is `text`: focuses a slider's thumb, or reads a checkbox; null if absent.
FIND_CONTROL = """(text, selector) => {
  const labels = Array.from(document.querySelectorAll('label, p')).filter(e => e.textContent.trim() === text);
  for (const label of labels) {
    let node = label;
    for (let depth = 0; depth < 6 && node; depth++, node = node.parentElement) {
      const control = node.querySelector(selector);
      if (control) return control;
    }
  }
  return null;
}"""


def focus_slider(page: ChromiumPage, label: str) -> None:
    found = page.evaluate(f"(() => {{ const s = ({FIND_CONTROL})({json.dumps(label)}, '[role=slider]'); "
                          "if (s) s.focus(); return s !== null; })()")
    assert found, f"no slider labelled {label}"


def checkbox_checked(page: ChromiumPage, label: str) -> bool:
    return page.evaluate(f"(() => {{ const c = ({FIND_CONTROL})({json.dumps(label)}, 'input[type=checkbox]'); "
                         "return c ? c.checked : null; })()")


def head_pixels(image: np.ndarray) -> int:
    return int((image[CANVAS] < 200).any(axis=-1).sum())


def settled_screenshot(page: ChromiumPage, seconds: float = 4.0, timeout: float = 90.0) -> np.ndarray:
    """A screenshot once the render has stayed the same for `seconds` (the viewer refines in steps)."""
    deadline = time.time() + timeout
    last, since = page.screenshot(), time.time()
    while time.time() - since < seconds:
        if time.time() > deadline:
            raise TimeoutError("the render kept changing")
        time.sleep(0.5)
        current = page.screenshot()
        if np.abs(current[CANVAS].astype(int) - last[CANVAS].astype(int)).mean() > 0.5:
            last, since = current, time.time()
    return last


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def viewer_url(tiny_avatar, tmp_path):
    port = _free_port()
    log = (tmp_path / "viewer.log").open("w")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "ns-viewer"), "--load-config", str(tiny_avatar.shaped_config),
         "--viewer.websocket-port", str(port), "--viewer.websocket-host", "127.0.0.1"],
        cwd=tiny_avatar.root, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 180
        while True:
            assert process.poll() is None, (tmp_path / "viewer.log").read_text()[-3000:]
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                assert time.time() < deadline, "ns-viewer did not start serving"
                time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def test_moving_an_expression_slider_rerenders_the_head(viewer_url, tmp_path):
    (tmp_path / "profile").mkdir()
    with ChromiumPage(tmp_path / "profile") as page:
        page.call("Page.navigate", url=viewer_url)
        page.wait_for_text("jawOpen")  # the expression panel is installed
        # Renders on the CPU are slow: keep them small, so that controls answer within seconds.
        focus_slider(page, "Max res")
        page.press("Home")
        for _ in range(12):  # back off: the default camera starts close to the head
            page.wheel(300, 350, 300)
        before = settled_screenshot(page)
        assert not checkbox_checked(page, "Use these coefficients")

        focus_slider(page, "jawOpen")
        page.press("End")
        deadline = time.time() + 60
        while not checkbox_checked(page, "Use these coefficients"):
            assert time.time() < deadline, "the slider did not switch the controls on"
            time.sleep(0.25)
        while np.abs(page.screenshot()[CANVAS].astype(int) - before[CANVAS].astype(int)).mean() < 2:
            assert time.time() < deadline + 60, "the render did not change"
            time.sleep(0.5)
        after = settled_screenshot(page)
    Image.fromarray(before).save(tmp_path / "before.png")
    Image.fromarray(after).save(tmp_path / "after.png")
    # The fitted avatar's head grows with jawOpen (tests/avatar_runs.py).
    assert head_pixels(after) > 1.3 * head_pixels(before) > 0, f"screenshots in {tmp_path}"
