"""The morning digest on the demo company, sent through a real SMTP server (aiosmtpd on a free local port):
who gets what, every number in the received emails equal to `accord compute`'s, the email's shape (multipart
text + HTML, inline CSS, PNG charts by Content-ID, no script, no SVG, no external image), the settings refused
in one line, and the HTML part at 600 px in Chromium without overflow. Sending itself (at most once, refusals,
a crash midway) is in tests/test_digest_send.py.
"""
from __future__ import annotations

import datetime as dt
import email
import html as htmlmod
import json
import re
import subprocess
import sys
from email import policy
from pathlib import Path

import pytest

from accord import app
from accord.demo import write_demo
from accord.morning.numbers import shown
from accord.render import digest as render

ACCORD = [sys.executable, "-m", "accord"]
DAY = dt.date(2026, 10, 5)          # the demo's pinned as-of
LEADER = "priya.nair@northwind.example"     # finance lead: finance owns company metrics
MEMBER = "omar.said@northwind.example"      # owns marketing's paid metrics
CELL = re.compile(r'<td[^>]*data-metric="([^"]+)" data-grain="([^"]+)" data-period="([^"]+)" '
                  r'data-as-of="([^"]+)">([^<]*)</td>')

SETTINGS = """
digest:
  at: "06:00"
  from: metrics@northwind.example
  leaders: [cfo@northwind.example]
smtp: {{host: 127.0.0.1, port: {port}, tls: none}}
"""


@pytest.fixture(scope="module")
def mailbox():
    from mailbox_server import serve
    with serve() as box:
        yield box


@pytest.fixture(scope="module")
def demo(tmp_path_factory, mailbox) -> Path:
    root = write_demo(tmp_path_factory.mktemp("digest") / "northwind")
    with open(root / "accord.yml", "a") as f:
        f.write(SETTINGS.format(port=mailbox.port))
    return root


@pytest.fixture(scope="module")
def project(demo):
    return app.load(demo)


@pytest.fixture(scope="module")
def built(project):
    return app.digests(project, DAY)


@pytest.fixture(scope="module")
def messages(built, project, mailbox, tmp_path_factory):
    """Every digest of the day sent through the SMTP server, as received: person -> message."""
    from accord.store import connect
    db = connect(f"sqlite:///{tmp_path_factory.mktemp('store') / 'accord.db'}")
    db.migrate()
    mailbox.clear()
    outcome = app.send_digests(project, db, built, lambda d: render.message(d, "metrics@northwind.example"))
    assert outcome.lines() == [] and sorted(outcome.sent) == sorted(d.person for d in built.digests)
    received = {}
    for rcpts, data in mailbox.received:
        assert len(rcpts) == 1 and rcpts[0] not in received
        received[rcpts[0]] = email.message_from_bytes(data, policy=policy.default)
    return received


def _compute(demo: Path, grain: str, as_of: str) -> dict[tuple[str, str], float | None]:
    """`accord compute --format json` for every metric at `grain` as of `as_of`: (metric, period) -> value."""
    from typer.testing import CliRunner

    from accord.cli import app as cli
    r = CliRunner().invoke(cli, ["compute", "--project", str(demo), "--grain", grain, "--as-of", as_of,
                                 "--format", "json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    return {(row["metric"], row["period"]): row["value"] for row in data["rows"]}


def test_everyone_named_gets_one_leaders_get_company_numbers_and_the_top_items(built, project):
    persons = {d.person: d for d in built.digests}
    named = set(app.people(project)) | {"cfo@northwind.example"}
    assert set(persons) | set(built.quiet) | {p for p, _ in built.refused} == named
    company = sorted(m.name for m in project.metrics if m.level == "company")
    for leader in (LEADER, "cfo@northwind.example"):
        d = persons[leader]
        assert d.leader and sorted(c.view.name for c in d.numbers) == company
        assert 0 < len(d.items) <= 5 and d.feeds == ()
    omar = persons[MEMBER]
    assert not omar.leader and omar.items == ()
    mine = {m.name for m in project.metrics if m.owner == MEMBER or m.team in app.people(project)[MEMBER]}
    assert {c.view.name for c in omar.numbers} == mine
    # what each of his metrics feeds: one line per parent edge, with the tree's verdict
    parents = {(m.name, p.metric) for m in project.metrics if m.name in mine for p in m.parents}
    assert {(f.metric, f.parent) for f in omar.feeds} == parents
    assert all(f.kpi in {m.name for m in project.metrics if m.level == "company"} for f in omar.feeds)


def test_every_number_in_the_email_is_compute_s_after_the_same_rounding(built, messages, demo, project):
    cells: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for person, msg in messages.items():
        body = msg.get_body(preferencelist=("html",)).get_content()
        found = CELL.findall(body)
        d = next(x for x in built.digests if x.person == person)
        assert len(found) == 10 * len(d.numbers), person        # 5 comparisons, 2 numbers each
        text = msg.get_body(preferencelist=("plain",)).get_content()
        for metric, grain, period, as_of, value in found:
            cells.setdefault((grain, as_of), []).append((metric, period, htmlmod.unescape(value)))
            assert htmlmod.unescape(value) in text
    assert {g for g, _ in cells} == {"day", "week", "month", "quarter"}
    units = {m.name: m.unit for m in project.metrics}
    checked = 0
    for (grain, as_of), shown_cells in cells.items():
        values = _compute(demo, grain, as_of)
        for metric, period, text in shown_cells:
            assert shown(values.get((metric, period)), units[metric]) == text, (metric, grain, period, as_of)
            checked += 1
    assert checked > 300


def test_to_date_figures_cover_the_same_point_of_the_previous_period(built):
    d = next(x for x in built.digests if x.person == LEADER)
    comparisons = {c.what + "/" + c.against: c for c in d.numbers[0].numbers.comparisons}
    y = DAY - dt.timedelta(days=1)      # Sunday 4 October 2026
    assert comparisons["Yesterday/the day before"].previous.through == y - dt.timedelta(days=1)
    assert comparisons["Yesterday/the same weekday a week before"].previous.through == y - dt.timedelta(days=7)
    week = comparisons["Week to date/the same point last week"]
    assert (week.current.period, week.previous.period, week.current.complete) == ("2026-W40", "2026-W39", True)
    month = comparisons["Month to date/the same point last month"]
    assert (month.current.through, month.previous.through) == (y, dt.date(2026, 9, 4))
    assert not month.current.complete
    quarter = comparisons["Quarter to date/the same point last quarter"]
    assert (quarter.current.period, quarter.previous.through) == ("2026-Q4", dt.date(2026, 7, 4))


def test_the_email_is_multipart_with_inline_css_png_charts_by_content_id_and_nothing_external(messages):
    for person, msg in messages.items():
        m = msg
        assert m.get_content_type() == "multipart/alternative"
        assert m["To"] == person and m["Date"] and re.fullmatch(r"<digest\.2026-10-05\.[0-9a-f]{16}@northwind"
                                                                r"\.example>", m["Message-ID"])
        assert m["List-Unsubscribe"] is None          # no serve.base_url: no links at all
        html_part = m.get_body(preferencelist=("html",))
        page = html_part.get_content()
        lowered = page.lower()
        assert "<script" not in lowered and "<svg" not in lowered and "<style" not in lowered
        assert "<link" not in lowered and "http://" not in lowered and "https://" not in lowered
        srcs = re.findall(r'<img[^>]*src="([^"]+)"', page)
        cids = {p["Content-ID"].strip("<>") for p in m.walk() if p.get_content_type() == "image/png"}
        assert srcs and all(s.startswith("cid:") for s in srcs)
        assert {s[4:] for s in srcs} == cids
        for p in m.walk():
            if p.get_content_type() == "image/png":
                assert p.get_content().startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize("yaml, message", [
    ('digest: {at: "25:00"}', r"accord\.yml:\d+(:\d+)?: .*is not a time of day"),
    ("digest: {from: nobody}", r"accord\.yml:\d+(:\d+)?: .*is not an email address"),
    ("smtp: {host: mail.example.com, tls: none}", r"accord\.yml:\d+(:\d+)?: .*only for a server on this machine"),
    ("smtp: {host: localhost, user_env: U}", r"accord\.yml:\d+(:\d+)?: .*give both"),
    ("smtp: {host: localhost, tls: sometimes}", r"accord\.yml:\d+(:\d+)?: "),
])
def test_bad_digest_and_smtp_settings_are_one_line_with_the_line_number(tmp_path, yaml, message):
    (tmp_path / "accord.yml").write_text(f"project: p\n{yaml}\n")
    r = subprocess.run(ACCORD + ["digest", "--project", str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert re.search(message, r.stderr), r.stderr


def test_unknown_recipient_and_bad_format_are_refused_in_one_line(demo):
    r = subprocess.run(ACCORD + ["digest", "--project", str(demo), "--to", "omar.sayd@northwind.example"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "did you mean 'omar.said@northwind.example'" in r.stderr.lower()
    r = subprocess.run(ACCORD + ["digest", "--project", str(demo), "--format", "pdf"], capture_output=True, text=True)
    assert r.returncode == 2 and "--format 'pdf' is not one of text, html, eml" in r.stderr


def test_the_html_part_fits_600_px_in_chromium(messages, tmp_path, browser):
    from browser import layout_problems, open_page
    for person in (LEADER, MEMBER):
        path = tmp_path / f"{person}.html"
        path.write_text(render.standalone_html(messages[person]))
        page = open_page(browser, path, 600)
        assert layout_problems(page) == [], person
        widths = page.evaluate("() => [...document.images].map(i => i.getBoundingClientRect().right)")
        assert widths and max(widths) <= 600
        # no text spills out of its table cell or past the 600 px
        spill = page.evaluate("""() => [...document.querySelectorAll('td, th')].filter(
            c => c.scrollWidth > c.clientWidth + 1 || c.getBoundingClientRect().right > 600).map(c => c.textContent)""")
        assert spill == [], person
        page.close()


def test_visible_to_keeps_restricted_numbers_out_of_other_peoples_digests(demo, built, tmp_path):
    """Finance's company metrics `visible_to: [finance]`: the finance lead still gets them; the CFO on the
    leaders list (in no team) and a marketing owner whose metrics feed them do not, nor findings naming them."""
    import shutil
    root = tmp_path / "northwind"
    shutil.copytree(demo, root, ignore=shutil.ignore_patterns(".accord"))
    company = root / "metrics" / "company.yml"
    text = company.read_text()
    assert text.count("    team: finance\n    level: company\n") == 4
    company.write_text(text.replace("    team: finance\n    level: company\n",
                                    "    team: finance\n    level: company\n    visible_to: [finance]\n"))
    project = app.load(root)
    restricted = {m.name for m in project.metrics if m.visible_to}
    assert len(restricted) == 4
    persons = {d.person: d for d in app.digests(project, DAY).digests}
    assert {c.view.name for c in persons[LEADER].numbers} >= restricted
    cfo = persons["cfo@northwind.example"]
    assert {c.view.name for c in cfo.numbers} == {m.name for m in project.metrics if m.level == "company"} - restricted
    before = next(d for d in built.digests if d.person == MEMBER)
    assert any({f.parent, f.kpi} & restricted for f in before.feeds)     # unrestricted, he sees where they lead
    omar = persons[MEMBER]
    assert not any({f.parent, f.kpi} & restricted for f in omar.feeds)
    assert {(f.metric, f.parent) for f in omar.feeds} == {(f.metric, f.parent) for f in before.feeds
                                                          if not {f.parent, f.kpi} & restricted}
    for d in (cfo, omar):
        words = " ".join([c.text for c in d.changes] + [i.sentence + " ".join(i.details) for i in d.items])
        assert not any(name in words for name in restricted), words
