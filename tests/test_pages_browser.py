"""Every HTML page accord writes, in headless Chromium at a phone's and a laptop's width: no page wider than
the window, no text drawn over text (with every fold opened); the report's top fits one laptop screen; folds
are closed on screen and open in print."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from browser import HEIGHT, WIDTHS, layout_problems, open_page

ACCORD = [str(Path(sys.executable).parent / "accord")]
PAGES = ("report", "tree", "touchpoints", "customer", "reconcile", "kit", "rollout")


def _accord(*args: str) -> None:
    done = subprocess.run(ACCORD + list(args), capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    """The demo's every kind of page, written by the command line as a user would."""
    from accord.demo import write_demo
    demo = write_demo(tmp_path_factory.mktemp("demo") / "northwind")
    out = tmp_path_factory.mktemp("pages")
    p = ["--project", str(demo)]
    _accord("report", *p, "--out", str(out / "report.html"))
    _accord("tree", *p, "--format", "html", "--out", str(out / "tree.html"))
    _accord("touchpoints", *p, "--format", "html", "--out", str(out / "touchpoints.html"))
    _accord("touchpoints", *p, "--customer", "ACC-00427", "--format", "html", "--out", str(out / "customer.html"))
    _accord("reconcile", "marketing_sourced_pipeline", "sales_qualified_pipeline", "--period", "2026-Q3", *p,
            "--format", "html", "--out", str(out / "reconcile.html"))
    _accord("workshop", "kit", "Pipeline", *p, "--format", "html", "--out", str(out / "kit"))
    [kit] = (out / "kit").glob("*.html")
    _accord("workshop", "decide", "Pipeline", *p, "--canonical", "sales_qualified_pipeline", "--for", "board deck",
            "--alternate", "marketing_sourced_pipeline|channel analysis|Marketing-sourced pipeline",
            "--owner", "revops@northwind.example", "--unresolved", "Finance probability weighting is not agreed",
            "--no-input")
    _accord("workshop", "rollout", "Pipeline", *p, "--format", "html", "--out", str(out / "rollout.html"))
    found = {name: out / f"{name}.html" for name in PAGES if name != "kit"}
    return {**found, "kit": kit}


def test_the_layout_check_sees_a_page_too_wide_and_text_over_text(browser, tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text('<!doctype html><meta name="viewport" content="width=device-width">'
                   '<body style="margin: 0"><div style="width: 900px">wide</div>'
                   '<p style="position: absolute; top: 100px; left: 10px">first words</p>'
                   '<p style="position: absolute; top: 104px; left: 20px">other words</p>', encoding="utf-8")
    page = open_page(browser, bad, 390)
    problems = layout_problems(page)
    page.close()
    assert problems[0] == "the page is 900 px wide in a 390 px window"
    assert any('"first words" overlaps "other words"' in p for p in problems)


@pytest.mark.slow
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", PAGES)
def test_every_page_fits_the_window_without_text_over_text(browser, pages, name, width):
    page = open_page(browser, pages[name], width)
    try:
        assert layout_problems(page) == []
    finally:
        page.close()


@pytest.mark.slow
def test_the_top_of_the_report_fits_one_laptop_screen(browser, pages):
    page = open_page(browser, pages["report"], 1400, HEIGHT)
    try:
        top = page.evaluate("""() => {
            const r = document.querySelector('.top-five').getBoundingClientRect();
            return {bottom: r.bottom + scrollY, items: document.querySelectorAll('.top-item').length,
                    summary: document.querySelectorAll('.masthead .summary').length,
                    folds: document.querySelectorAll('details.fold').length,
                    openFolds: document.querySelectorAll('details.fold[open]').length};
        }""")
    finally:
        page.close()
    assert top["summary"] == 1 and 1 <= top["items"] <= 5
    assert top["bottom"] <= HEIGHT, f"the top ends at {top['bottom']:.0f} px, below a {HEIGHT} px screen"
    assert top["folds"] >= 5 and top["openFolds"] == 0


@pytest.mark.slow
def test_folds_are_closed_on_screen_and_open_in_print(browser, pages):
    visible = """() => [...document.querySelectorAll('details.fold .fold-body')]
        .map(b => b.checkVisibility() && b.getBoundingClientRect().height > 0)"""
    page = open_page(browser, pages["report"], 1400)
    try:
        assert not any(page.evaluate(visible))
        page.emulate_media(media="print")
        shown = page.evaluate(visible)
        nested = page.evaluate("""() => [...document.querySelectorAll('details.sub > ol, details.sub > table')]
            .map(b => b.checkVisibility() && b.getBoundingClientRect().height > 0)""")
    finally:
        page.close()
    assert shown and all(shown)
    assert nested and all(nested)
