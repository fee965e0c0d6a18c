"""The README and docs/: every relative link names an existing file (and heading), the README stays a landing page."""

import re
from pathlib import Path
from typing import Iterator, Set, Tuple

import pytest

ROOT = Path(__file__).parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
README_MAX_LINES = 120
README_IMAGE_MAX_BYTES = 300_000


def without_fences(text: str) -> str:
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def prose(text: str) -> str:
    """The text without code blocks and inline code, where brackets are not links."""
    return re.sub(r"`[^`\n]*`", "", without_fences(text))


def anchors(page: Path) -> Set[str]:
    """GitHub's anchor of each heading: lower case, punctuation (backticks too) dropped, spaces as hyphens."""
    headings = re.findall(r"^#{1,6}\s+(.+?)\s*$", without_fences(page.read_text()), flags=re.M)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def relative_links(page: Path) -> Iterator[Tuple[str, Path, str]]:
    """(link as written, the file it names, its anchor or '') for every link that is not a URL."""
    for target in LINK.findall(prose(page.read_text())):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):
            continue
        path, _, anchor = target.partition("#")
        yield target, (page.parent / path).resolve() if path else page, anchor


def test_anchors_follow_github_s_rule():
    page = ROOT / "docs" / "driving-and-inspecting.md"
    expected = {"nerfblend-render", "viewer-ns-viewer---load-config-cfg-or-while-training"}  # backticks dropped
    assert expected <= anchors(page)


@pytest.mark.parametrize("page", PAGES, ids=[str(page.relative_to(ROOT)) for page in PAGES])
def test_every_relative_link_resolves(page):
    broken = []
    for target, path, anchor in relative_links(page):
        if not path.exists():
            broken.append(f"{target}: no file {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
        elif anchor and (path.suffix != ".md" or anchor not in anchors(path)):
            broken.append(f"{target}: no heading '{anchor}' in {path.name}")
    assert not broken, f"{page.relative_to(ROOT)}: " + "; ".join(broken)


def test_the_readme_is_a_landing_page():
    readme = ROOT / "README.md"
    assert len(readme.read_text().splitlines()) <= README_MAX_LINES
    images = [path for target, path, _ in relative_links(readme) if path.suffix in (".png", ".jpg", ".gif")]
    assert images, "the README shows an avatar"
    for image in images:
        assert image.stat().st_size < README_IMAGE_MAX_BYTES, f"{image.name} is too large for the landing page"
