"""Pages in a real browser, for any test: Debian's headless Chromium driven by Playwright.

    from browser import launch, open_page, layout_problems
    with launch() as browser:                      # skips (or fails under ACCORD_REQUIRE=browser) without one
        page = open_page(browser, "file:///…/report.html", 390)
        assert layout_problems(page) == []

Or take the `browser` fixture from tests/conftest.py. Playwright never downloads a browser here: it drives the
executable at ACCORD_CHROMIUM (default /usr/bin/chromium), which `make browser` installs when missing.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

CHROMIUM = Path(os.environ.get("ACCORD_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
WIDTHS = (390, 1400)     # a phone and a laptop
HEIGHT = 900


def _missing(what: str) -> None:
    """Skip with one line naming what is missing, or fail when ACCORD_REQUIRE names the browser."""
    required = {w.strip() for w in os.environ.get("ACCORD_REQUIRE", "").split(",")}
    if "browser" in required:
        pytest.fail(f"browser: {what} (ACCORD_REQUIRE names browser)", pytrace=False)
    pytest.skip(f"browser: {what}")


@contextmanager
def launch() -> Iterator[object]:
    """A headless Chromium for the block; closed after it."""
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} not found")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install -e '.[browser]')")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser, url: str | Path, width: int, height: int = HEIGHT, media: str = "screen"):
    """A new page of the given size showing `url` (a path becomes a file:// URL), loaded."""
    if isinstance(url, Path):
        url = url.resolve().as_uri()
    page = browser.new_page(viewport={"width": width, "height": height})
    page.emulate_media(media=media)
    page.goto(str(url), wait_until="load")
    return page


# Every visible piece of text as its line boxes (one per line a text node wraps to), and pairs of boxes from
# different text nodes that overlap by more than a hair. Nodes that are not rendered have no boxes.
_LAYOUT = """(openAll) => {
  if (openAll) document.querySelectorAll('details').forEach(d => { d.open = true; });
  const boxes = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let node, id = 0;
  while ((node = walk.nextNode())) {
    const text = node.nodeValue.trim();
    if (!text || !node.parentElement) continue;
    const style = getComputedStyle(node.parentElement);
    if (style.visibility === 'hidden' || style.opacity === '0') continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    id += 1;
    for (const r of range.getClientRects()) {
      if (r.width < 1 || r.height < 1) continue;
      boxes.push({id, text: text.slice(0, 50), x: r.left + scrollX, y: r.top + scrollY, w: r.width, h: r.height});
    }
  }
  boxes.sort((a, b) => a.y - b.y);
  const overlaps = [];
  for (let i = 0; i < boxes.length && overlaps.length < 20; i++) {
    const a = boxes[i];
    for (let j = i + 1; j < boxes.length && boxes[j].y < a.y + a.h; j++) {
      const b = boxes[j];
      if (a.id === b.id) continue;
      const ox = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
      const oy = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
      if (ox > 1 && oy > 2) overlaps.push(`"${a.text}" overlaps "${b.text}" at (${Math.round(b.x)}, ${Math.round(b.y)})`);
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
          boxes: boxes.length, overlaps};
}"""


def layout(page, open_all: bool = True) -> dict:
    """{scrollWidth, innerWidth, boxes, overlaps} of the page, with every <details> opened first."""
    return page.evaluate(_LAYOUT, open_all)


def layout_problems(page, open_all: bool = True) -> list[str]:
    """What a reader would see go wrong: the page wider than the window, text drawn over text."""
    found = layout(page, open_all)
    problems = []
    if found["scrollWidth"] > found["innerWidth"]:
        problems.append(f"the page is {found['scrollWidth']} px wide in a {found['innerWidth']} px window")
    problems += found["overlaps"]
    return problems
