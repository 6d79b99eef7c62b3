"""Input that once gave a Python traceback: each is one line on stderr and exit code 2, nothing changed."""
from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys

import pytest
from factory import snapshot, write_project

ACCORD = [sys.executable, "-m", "accord"]

DEFS = """
teams:
  - {name: sales, lead: lead@x.example}
sources:
  - {name: orders, path: data/orders.csv, key: id, time: ordered_at}
metrics:
  - name: revenue
    label: Revenue
    team: sales
    level: company
    owner: a@x.example
    decision: Board
    source: orders
    measure: sum(amount)
    exclude: []
    target: {direction: up, value: 100, period: month}
  - name: orders_placed
    team: sales
    level: function
    owner: a@x.example
    decision: Weekly review
    source: orders
    measure: count(*)
    exclude: []
    parents: [{metric: revenue, lag: 1w}]
"""
ORDERS = "id,amount,ordered_at\n1,10.5,2026-01-05\n2,20,2026-01-31\n3,7,2026-02-01\n4,5,2026-02-10\n"


def run(*args, env=None, cwd=None):
    return subprocess.run(ACCORD + [str(a) for a in args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})})


def one_line(r, code: int = 2) -> str:
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    return lines[0]


@pytest.fixture
def proj(tmp_path):
    return write_project(tmp_path / "p", {"defs.yml": DEFS, "data/orders.csv": ORDERS},
                         "project: shop\nsettings: {as_of: 2026-03-10}\n")


def test_project_given_as_a_file_says_it_is_a_file(proj):
    line = one_line(run("validate", "--project", proj / "accord.yml"))
    assert line == f"{proj / 'accord.yml'}: is a file, not a project folder. pass --project {proj}"


@pytest.mark.parametrize("case", ["missing folder", "a folder", "unwritable"])
def test_report_out_that_cannot_be_written_is_refused_before_any_work(proj, tmp_path, case):
    out = {"missing folder": tmp_path / "nope" / "r.html", "a folder": tmp_path,
           "unwritable": "/proc/accord-report.html"}[case]
    before = snapshot(tmp_path)
    line = one_line(run("report", "--project", proj, "--out", out))
    assert line.startswith(str(out))
    assert {"missing folder": "does not exist. create it first or write elsewhere", "a folder": "is a folder",
            "unwritable": "cannot write it: No such file or directory. check the path"}[case] in line
    assert snapshot(tmp_path) == before and not (tmp_path / "nope").exists()


@pytest.mark.parametrize("command", ["tree", "touchpoints", "reconcile"])
def test_every_html_out_is_checked_the_same_way(proj, tmp_path, command):
    args = {"reconcile": ["reconcile", "revenue", "orders_placed", "--period", "2026-01"]}.get(command, [command])
    line = one_line(run(*args, "--project", proj, "--format", "html", "--out", tmp_path / "no" / "x.html"))
    assert line == (f"{tmp_path / 'no' / 'x.html'}: the folder {tmp_path / 'no'} does not exist. create it first "
                    "or write elsewhere")


def test_report_keeps_matplotlib_out_of_the_home_folder(proj, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("MPLCONFIGDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")}
    r = subprocess.run(ACCORD + ["report", "--project", str(proj), "--out", str(tmp_path / "r.html")],
                       capture_output=True, text=True, env={**env, "HOME": str(home)})
    assert r.returncode == 0, r.stderr
    assert "<svg" in (tmp_path / "r.html").read_text()
    assert list(home.rglob("*")) == []


DECISION = "decisions:\n  - label: Revenue\n    decided_on: 2026-03-01\n    owner: a@x.example\n" \
           "    canonical:\n      - metric: revenue\n"


def decide(proj, *extra):
    return ["workshop", "decide", "Revenue", "--project", str(proj), "--canonical", "revenue", "--owner",
            "a@x.example", "--no-input", *extra]


def test_decide_on_a_read_only_decision_file_changes_nothing(proj):
    path = proj / "decisions" / "revenue.yml"
    path.parent.mkdir()
    path.write_text(DECISION)
    path.chmod(0o444)
    before = snapshot(proj)
    line = one_line(run(*decide(proj, "--follow-up", "x|a@x.example|2026-04-01")))
    assert line == ("decisions/revenue.yml: the file is read-only. make it writable (chmod u+w "
                    "decisions/revenue.yml) or write elsewhere, then run the command again")
    assert snapshot(proj) == before


def as_unprivileged(args: list[str]) -> list[str]:
    """The command as a user that file permissions apply to: root would write through them."""
    if os.geteuid() != 0:
        return ACCORD + args
    if not shutil.which("capsh"):
        pytest.skip("running as root without capsh to drop the right to ignore file permissions")
    return ["capsh", "--drop=cap_dac_override,cap_dac_read_search,cap_fowner", "--", "-c",
            shlex.join(ACCORD + args)]


@pytest.mark.parametrize("where", ["project folder", "decisions folder"])
def test_decide_in_a_read_only_folder_changes_nothing(proj, where):
    if where == "decisions folder":
        (proj / "decisions").mkdir()
        (proj / "decisions" / "revenue.yml").write_text(DECISION)
    folder = proj if where == "project folder" else proj / "decisions"
    before = snapshot(proj)
    folder.chmod(0o555)
    try:
        r = subprocess.run(as_unprivileged(decide(proj)), capture_output=True, text=True)
    finally:
        folder.chmod(0o755)
    line = one_line(r)
    if where == "project folder":
        assert line == f"decisions: permission denied: the folder {proj} is not writable. make it writable or " \
                       "create elsewhere"
    else:
        assert line == (f"decisions/revenue.yml: permission denied: the folder {proj / 'decisions'} is not "
                        "writable. make it writable or write elsewhere")
    assert snapshot(proj) == before


# ---------------------------------------------------------------- values the loader refuses at their line

def _with(proj, old: str, new: str) -> None:
    path = proj / "defs.yml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def _line_of(proj, needle: str) -> int:
    return next(i for i, line in enumerate((proj / "defs.yml").read_text().splitlines(), 1) if needle in line)


@pytest.mark.parametrize("tag", ["!!python/object/apply:os.system", "!!python/object:os.X", "!!python/name:os.system",
                                 "!custom", "!!set", "!!binary", "!!str"])
def test_a_yaml_tag_is_refused_at_its_line_and_never_constructed(proj, tmp_path, tag):
    canary = tmp_path / "canary"
    value = {"!!set": "{a, b}", "!!binary": "aGVsbG8="}.get(tag, f'["touch {canary}"]')
    _with(proj, "decision: Board", f"decision: {tag} {value}")
    before = snapshot(proj)
    for command in ("validate", "compute", "tree"):
        line = one_line(run(command, "--project", proj))
        assert line == (f"defs.yml:{_line_of(proj, tag)}:15: the YAML tag '{tag}' is not allowed in definitions. "
                        "remove the tag (quote the value to keep it as text)")
    assert not canary.exists() and snapshot(proj) == before


def test_a_tag_in_accord_yml_is_refused_too(proj):
    (proj / "accord.yml").write_text("project: !!python/object/apply:os.getcwd []\n")
    assert one_line(run("validate", "--project", proj)) == (
        "accord.yml:1:10: the YAML tag '!!python/object/apply:os.getcwd' is not allowed in definitions. remove "
        "the tag (quote the value to keep it as text)")


@pytest.mark.parametrize("number", ["1e999", "-1e999", ".inf", "-.Inf", ".nan", ".NaN"])
def test_a_number_that_is_not_finite_is_refused_at_load(proj, number):
    _with(proj, "value: 100,", f"value: {number},")
    for command in ("validate", "tree", "compute"):
        line = one_line(run(command, "--project", proj, "--format", "json"))
        assert line == (f"defs.yml:{_line_of(proj, 'value: ')}:36: this number is infinite or not a number (such "
                        "as 1e999, .inf or .nan). write a finite number")


def test_a_huge_finite_target_is_computed_and_its_json_is_json(proj):
    _with(proj, "value: 100,", "value: 1.7e308,")
    for command in ("tree", "check", "compute"):
        r = run(command, "--project", proj, "--format", "json")
        assert r.returncode in (0, 1) and "Traceback" not in r.stderr, r.stderr
        json.loads(r.stdout)  # the json module's reader refuses nothing; Python's own writer gave Infinity
        assert "Infinity" not in r.stdout and "NaN" not in r.stdout


def test_json_output_writes_a_number_that_is_not_finite_as_null():
    from accord.cli import json_text
    text = json_text({"rows": [{"v": float("inf"), "w": 1.5}, {"v": float("nan")}], "x": -float("inf"), "y": 2.0})
    assert json.loads(text, parse_constant=lambda c: pytest.fail(c)) == {
        "rows": [{"v": None, "w": 1.5}, {"v": None}], "x": None, "y": 2.0}


@pytest.mark.parametrize("field,value", [("lag", "99999999w"), ("lag", "999999999999999999999d")])
def test_a_lag_longer_than_any_date_range_is_refused(proj, field, value):
    _with(proj, "lag: 1w", f"lag: {value}")
    line = one_line(run("validate", "--project", proj))
    assert line.startswith(f"defs.yml:{_line_of(proj, 'lag:')}:") and f"'{value}' is longer than any date range" in line


@pytest.mark.parametrize("engine,message", [
    ("{timeout: 99999999999999999h}", "accord.yml:2:19: engine.timeout '99999999999999999h' is longer than a week. "
                                      "write at most 168h"),
    ("{threads: 99999999999999999999}", "accord.yml:2:19: engine.threads must be at most 4096; got "
                                        "99999999999999999999. change the value"),
    ("{memory_limit: 99999999999999999999GB}", "accord.yml:2:24: engine.memory_limit '99999999999999999999GB' is "
                                               "more memory than a machine has. write at most 1024TB, or a share "
                                               "such as 75%"),
])
def test_engine_settings_past_any_machine_are_refused_at_their_line(proj, engine, message):
    (proj / "accord.yml").write_text(f"project: shop\nengine: {engine}\nsettings: {{as_of: 2026-03-10}}\n")
    for command in ("validate", "compute"):
        assert one_line(run(command, "--project", proj)) == message


def test_a_trend_window_longer_than_any_date_range_is_refused(proj):
    (proj / "accord.yml").write_text("project: shop\nsettings: {as_of: 2026-03-10, trend_window: 999999999w}\n")
    assert one_line(run("check", "--project", proj)) == (
        "accord.yml:2:45: settings.trend_window '999999999w' is longer than any date range. write a shorter "
        "duration, such as 30d")


@pytest.mark.parametrize("canonical,owner,message", [
    ("orders_placed", "a@x.example", "--canonical 'orders_placed' is not labelled 'Revenue' (metrics labelled so: "
                                     "revenue). name one of them, or label the metric 'Revenue' first"),
    ("revenue", "bob", "--owner 'bob' is not an email address. give the owner's email, such as ana@example.com"),
    ("revenue", "Bob Smith", "--owner 'Bob Smith' is not an email address. give the owner's email, such as "
                             "ana@example.com"),
])
def test_decide_refuses_a_canonical_outside_the_label_and_an_owner_that_is_no_email(proj, canonical, owner, message):
    before = snapshot(proj)
    line = one_line(run("workshop", "decide", "Revenue", "--project", proj, "--canonical", canonical, "--owner",
                        owner, "--no-input"))
    assert line == message
    assert snapshot(proj) == before and not (proj / "decisions").exists()


@pytest.mark.parametrize("as_of", ["9999-12-31", "0001-01-01", "9000-01-01"])
def test_as_of_at_the_ends_of_the_calendar_runs_bounded_by_the_data(proj, tmp_path, as_of):
    for args in (["compute", "--format", "json"], ["check"], ["tree", "--format", "json"],
                 ["report", "--out", tmp_path / "r.html"], ["reconcile", "revenue", "orders_placed", "--period",
                                                             "2026-01"]):
        r = run(*args, "--project", proj, "--as-of", as_of)
        assert r.returncode in (0, 1), (args, r.stderr)
        assert "Traceback" not in r.stderr
        if args[0] == "compute":
            periods = {row["period"] for row in json.loads(r.stdout)["rows"]}
            # data from 2026-01-05 to 2026-02-10: months up to a year past the last data, never to as-of
            assert periods <= {f"2026-{m:02d}" for m in range(1, 13)} | {"2027-01", "2027-02"}, sorted(periods)


@pytest.mark.parametrize("as_of", ["garbage", "2026-13-01", "10000-01-01", "0000-01-01", "-1", "2026-02-30"])
def test_an_as_of_that_is_no_date_is_one_line(proj, as_of):
    for command in ("compute", "check", "tree", "report"):
        line = one_line(run(command, "--project", proj, f"--as-of={as_of}"))
        assert line.startswith(f"--as-of '{as_of}' is not a date") or "--as-of" in line, line
