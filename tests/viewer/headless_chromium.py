"""A headless Chromium page driven over the Chrome DevTools Protocol, for end-to-end viewer tests."""

import base64
import io
import itertools
import json
import subprocess
import time
from pathlib import Path

import numpy as np
from PIL import Image
from websockets.sync.client import ClientConnection, connect

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)
KEY_CODES = {"Home": 36, "End": 35}


class ChromiumPage:
    """One browser tab; `with ChromiumPage(profile) as page:` starts the browser and stops it after."""

    def __init__(self, profile: Path, width: int = 900, height: int = 700):
        self._command = [
            str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}",
            "--remote-debugging-port=0", "about:blank",
        ]
        self._profile = profile
        self._ids = itertools.count(1)
        self._socket: ClientConnection
        self._process: subprocess.Popen

    def __enter__(self) -> "ChromiumPage":
        self._process = subprocess.Popen(self._command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = self._profile / "DevToolsActivePort"  # the browser picks a free port and writes it here
        deadline = time.time() + 30
        while not port_file.is_file() or len(port_file.read_text().splitlines()) < 2:
            if time.time() > deadline:
                raise TimeoutError("Chromium did not open its DevTools port")
            time.sleep(0.1)
        port, browser_path = port_file.read_text().splitlines()[:2]
        self._socket = connect(f"ws://127.0.0.1:{port}{browser_path}", max_size=None)
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self._session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        return self

    def __exit__(self, *exc) -> None:
        self._socket.close()
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()

    def call(self, method: str, **params) -> dict:
        """Sends one DevTools command (to the tab once attached) and returns its result."""
        message_id = next(self._ids)
        message = {"id": message_id, "method": method, "params": params}
        if getattr(self, "_session", None):
            message["sessionId"] = self._session
        self._socket.send(json.dumps(message))
        while True:
            reply = json.loads(self._socket.recv(timeout=60))
            if reply.get("id") == message_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def evaluate(self, expression: str):
        reply = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in reply:
            details = reply["exceptionDetails"]
            raise RuntimeError(f"{expression[:200]}: {details.get('exception', details)}")
        return reply["result"].get("value")

    def text(self) -> str:
        return self.evaluate("document.body ? document.body.innerText : ''") or ""

    def wait_for_text(self, text: str, timeout: float = 60) -> None:
        deadline = time.time() + timeout
        while text not in self.text():
            if time.time() > deadline:
                raise TimeoutError(f"'{text}' did not appear on the page")
            time.sleep(0.25)

    def press(self, key: str) -> None:
        for kind in ("keyDown", "keyUp"):
            self.call("Input.dispatchKeyEvent", type=kind, key=key, code=key, windowsVirtualKeyCode=KEY_CODES[key])

    def wheel(self, x: int, y: int, delta: int) -> None:
        self.call("Input.dispatchMouseEvent", type="mouseWheel", x=x, y=y, deltaX=0, deltaY=delta)

    def screenshot(self) -> np.ndarray:
        """[H, W, 3] uint8 of the tab's viewport."""
        data = base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])
        return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
