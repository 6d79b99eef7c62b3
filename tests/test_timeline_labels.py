"""What a customer received: each timeline touch carries its channel and subject (or campaign name) where the
source has them — a column of its own, or a column of another source looked up by that source's key.

Expected labels are joined here in plain Python from the CSV rows written, sharing no code with accord.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import subprocess
import sys

import pytest
from factory import write_project

from accord.analyze.touchpoints import touchpoints
from accord.compute.connect import project_sandbox
from accord.engine import open_engine
from accord.errors import UserError
from accord.project.loader import load_project

CAMPAIGNS = [("CMP-1", "Spring webinar", "email"), ("CMP-2", "Renewal offer", "email")]
EMAILS = [("E1", "C1", "CMP-1", "2026-06-01 09:00"), ("E2", "C1", "CMP-2", "2026-06-02 09:00"),
          ("E3", "C1", "CMP-9", "2026-06-03 09:00"),          # a campaign the campaigns source lacks
          ("E4", "C2", "CMP-1", "2026-06-01 10:00")]
CALLS = [("K1", "C1", "phone", "Billing question $12", "2026-06-02 11:00"),
         ("K2", "C1", "video_call", "Renewal", "2026-06-04 15:00")]
NOTES = [("C1", "2026-06-05 08:00")]                           # no key: nothing to look a label up by

POLICY = """
teams:
  - {name: marketing, lead: m@x.example}
  - {name: sales, lead: s@x.example}
  - {name: cx, lead: c@x.example}
sources:
  - {name: campaigns, path: campaigns.csv, key: campaign_id}
  - {name: emails, path: emails.csv, key: send_id, time: sent_at}
  - {name: calls, path: calls.csv, key: call_id, time: at}
  - {name: notes, path: notes.csv, time: at}
contact_policy:
  customer: customer_id
  touches:
    - {source: emails, team: marketing, time: sent_at, channel: CHANNEL, subject: SUBJECT}
    - {source: calls, team: sales, time: at}
    - {source: notes, team: cx, time: at}
  rules:
    - {name: at most 2 touches in 48 hours, max_touches: 2, within: 48h}
"""


def _csv(header, rows) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    return out.getvalue()


def _project(tmp_path, channel="campaigns.channel", subject="campaigns.name"):
    files = {"policy.yml": POLICY.replace("CHANNEL", channel).replace("SUBJECT", subject),
             "campaigns.csv": _csv(["campaign_id", "name", "channel"], CAMPAIGNS),
             "emails.csv": _csv(["send_id", "customer_id", "campaign_id", "sent_at"], EMAILS),
             "calls.csv": _csv(["call_id", "customer_id", "channel", "subject", "at"], CALLS),
             "notes.csv": _csv(["customer_id", "at"], NOTES)}
    return write_project(tmp_path / "p", files, "project: labels\nsettings: {as_of: 2026-06-10}\n")


def _expected(customer: str) -> list[tuple[str, str | None, str | None]]:
    """(time, channel, subject) of the customer's touches, by a plain join of the rows written."""
    campaigns = {c: (name, ch) for c, name, ch in CAMPAIGNS}
    out = [(t, campaigns.get(c, (None, None))[1], campaigns.get(c, (None, None))[0])
           for _, who, c, t in EMAILS if who == customer]
    out += [(t, ch, subj) for _, who, ch, subj, t in CALLS if who == customer]
    out += [(t, None, None) for who, t in NOTES if who == customer]
    return sorted(out)


def _timeline(project, customer):
    engine = open_engine("duckdb", None, project.settings.timezone, project_sandbox(project))
    try:
        return touchpoints(project, engine, dt.date(2026, 6, 10), customer).timelines[customer]
    finally:
        engine.close()


def test_each_touch_carries_its_channel_and_subject_from_its_source_or_a_lookup(tmp_path):
    line = _timeline(load_project(_project(tmp_path)), "C1")
    got = sorted((t.time.strftime("%Y-%m-%d %H:%M"), t.channel, t.subject) for t in line.touches)
    assert got == _expected("C1")
    words = {t.key: t.what for t in line.touches}
    assert words["K1"] == "phone · Billing question $12" and words["K2"] == "video call · Renewal"
    assert words["E1"] == "email · Spring webinar" and words["E3"] == "emails"     # nothing known: the source


def test_the_customer_json_and_text_show_what_was_received(tmp_path):
    p = _project(tmp_path)
    args = [sys.executable, "-m", "accord.cli", "touchpoints", "--project", str(p), "--customer", "C1"]
    r = subprocess.run(args + ["--format", "json"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    log = json.loads(r.stdout)["timeline"]["log"]
    assert sorted((e["time"][:16].replace("T", " "), e["channel"], e["subject"]) for e in log) == _expected("C1")
    text = subprocess.run(args, capture_output=True, text=True, env={"COLUMNS": "200", "PATH": ""}).stdout
    assert "phone · Billing question $12" in text and "email · Renewal offer" in text


@pytest.mark.parametrize("channel, subject, line, words", [
    ("campaigns.medium", "campaigns.name", 13, "channel column 'medium' is not in source 'campaigns'"),
    ("campaigns.channel", "headline", 13, "subject column 'headline' is not in source 'emails'"),
    ("campaigns.channel", "notes.at", 13, "looks up source 'notes', which has no key"),
])
def test_a_label_that_cannot_be_read_is_one_line_at_the_policy(tmp_path, channel, subject, line, words):
    project = load_project(_project(tmp_path, channel, subject))
    with pytest.raises(UserError) as e:
        _timeline(project, "C1")
    [problem] = e.value.problems
    assert problem.file == "policy.yml" and problem.line == line and words in problem.message, problem
    assert (tmp_path / "p" / "policy.yml").read_text().splitlines()[line - 1].strip().startswith("- {source: emails")
