"""Ctrl-C ends every command with one line and exit 130; a reader that stops early (`| head -1`) ends it
quietly with exit 0."""
from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time

import pytest
from factory import write_project

from accord.errors import INTERRUPTED_LINE

ACCORD = [sys.executable, "-m", "accord"]   # as the `accord` script runs it

DEFS = """
teams:
  - {name: sales, lead: lead@x.example}
sources:
  - {name: orders, path: data/orders.csv, key: id, time: ordered_at}
metrics:
  - {name: revenue, team: sales, level: company, owner: a@x.example, decision: Board, source: orders,
     measure: sum(amount), exclude: []}
  - {name: orders_placed, team: sales, level: function, owner: a@x.example, decision: Review, source: orders,
     measure: count(*), exclude: [], parents: [{metric: revenue}]}
"""
# The cross join of 1,200 orders with itself twice: a query that runs for minutes.
SLOW = """
sources:
  - name: pairs
    sql: "select a.id, a.amount * b.amount * c.amount as amount, a.ordered_at from orders a, orders b, orders c"
    time: ordered_at
metrics:
  - {name: pair_spread, team: sales, level: role, owner: a@x.example, decision: Review, source: pairs,
     measure: "count(distinct amount)", exclude: [], parents: [{metric: revenue}]}
"""


def orders(days: int = 800) -> str:
    start = dt.date(2024, 1, 1)
    rows = [f"{i},{i % 97 + 0.5},{start + dt.timedelta(days=i % days)}" for i in range(1, 1201)]
    return "id,amount,ordered_at\n" + "\n".join(rows) + "\n"


@pytest.fixture
def proj(tmp_path):
    return write_project(tmp_path / "p", {"defs.yml": DEFS, "data/orders.csv": orders()},
                         "project: shop\nsettings: {as_of: 2026-03-10}\n")


def start(*args) -> subprocess.Popen:
    # Ctrl-C reaches a foreground command with SIGINT handled by Python (a background job would ignore it)
    return subprocess.Popen(ACCORD + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def cpu_seconds(pid: int) -> float:
    """CPU time the process has used (all its threads)."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_ctrl_c_during_a_query_is_one_line_and_exit_130(proj):
    (proj / "slow.yml").write_text(SLOW)
    p = start("compute", "pair_spread", "--project", str(proj), "--format", "json")
    # Loading takes about a second of CPU; four seconds used means the query is running.
    deadline = time.monotonic() + 120
    while cpu_seconds(p.pid) < 4 and p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert p.poll() is None, p.communicate()
    interrupted = time.monotonic()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert time.monotonic() - interrupted < 10
    assert (p.returncode, err, out) == (130, INTERRUPTED_LINE + "\n", "")


@pytest.mark.parametrize("delay", [0.6, 1.2, 2.0])
def test_ctrl_c_at_any_moment_of_a_command_is_one_line(proj, delay):
    p = start("tree", "--project", str(proj))
    time.sleep(delay)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    if p.returncode != 130:           # finished before the signal came: nothing to prove at this moment
        assert p.returncode == 0 and err == ""
        return
    assert err == INTERRUPTED_LINE + "\n" and out == ""


@pytest.mark.parametrize("args", [
    ["compute", "revenue", "orders_placed", "--grain", "day"],
    ["compute", "revenue", "orders_placed", "--grain", "day", "--format", "json"],
    ["compute", "revenue", "orders_placed", "--grain", "day", "--format", "csv"],
    ["tree"],
    ["validate", "--verbose"],
    ["check", "--fail-on", "info", "--format", "json"],
])
def test_a_reader_that_stops_early_ends_the_command_quietly(proj, args):
    p = subprocess.Popen(ACCORD + args + ["--project", str(proj)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.close()                  # `| head -0`: the reader is gone before the first line
    err = p.stderr.read().decode()
    assert (p.wait(timeout=120), err) == (0, "")


def test_head_1_gets_the_first_line_and_the_command_ends_with_0(proj):
    r = subprocess.run(f"{' '.join(ACCORD)} compute revenue --grain day --project {proj} | head -1; "
                       "echo \"${PIPESTATUS[0]}\"", shell=True, executable="/bin/bash", capture_output=True,
                       text=True)
    first, code = r.stdout.splitlines()
    assert "metric" in first and code == "0" and r.stderr == ""
