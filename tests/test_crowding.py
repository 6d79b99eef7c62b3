"""The worst timelines of a block rule are the most crowded ones: most teams within the shortest cap window
during one open period, then touches per day — the $12 case, not the case nobody ever closed. On a
hand-built log whose answer is known, and on the demo (ACC-00427)."""
from __future__ import annotations

import datetime as dt

from test_touchpoints import Source, run, write

from accord.analyze.crowding import most_teams_within

START = dt.datetime(2026, 1, 5)
TODAY = dt.date(2026, 7, 1)


def t(day: int, hour: float = 9) -> dt.datetime:
    return START + dt.timedelta(days=day, hours=hour)


def test_five_teams_in_two_days_outrank_one_team_shouting(tmp_path):
    rows = {"marketing": [], "sales": [], "product": [], "cx": [], "finance": []}
    # TWELVE: a three-day case; five teams within 48 hours, 5 touches
    for team, when in (("marketing", t(10, 15)), ("sales", t(11, 9)), ("product", t(11, 12)), ("cx", t(11, 16)),
                       ("finance", t(12, 8))):
        rows[team].append(("TWELVE", when))
    # LOUD: a two-day case; 10 marketing mails and 2 sales calls: more blocked touches, two teams
    rows["marketing"] += [("LOUD", t(20, h)) for h in range(8, 18)]
    rows["sales"] += [("LOUD", t(21, 10)), ("LOUD", t(21, 11))]
    # TIE_A and TIE_B: three teams within 48 hours each; A's case is shorter, so more touches a day
    rows["marketing"] += [("TIE_A", t(30, 10)), ("TIE_B", t(40, 10))]
    rows["sales"] += [("TIE_A", t(30, 11)), ("TIE_B", t(41, 11))]
    rows["product"] += [("TIE_A", t(31, 9)), ("TIE_B", t(42, 8))]
    # SPREAD: five teams, but never more than two within 48 hours of each other
    for i, team in enumerate(rows):
        rows[team].append(("SPREAD", t(50 + 3 * i)))
    # ANCIENT: a case opened in January and never closed; every team, every week since: probably never closed
    for i, team in enumerate(rows):
        rows[team] += [("ANCIENT", t(7 * w + i, 10)) for w in range(2, 24)]
    sources = [Source(team, team, "ts", rs) for team, rs in rows.items()]
    cases = {"open_case": ("ts", [("TWELVE", t(10), t(13, 11)), ("LOUD", t(20, 0), t(22, 0)),
                            ("TIE_A", t(30, 0), t(32, 0)), ("TIE_B", t(40, 0), t(44, 0)),
                            ("SPREAD", t(49), t(65)), ("ANCIENT", t(1), None)])}
    rules = [{"name": "three in two days", "max_touches": 3, "within": "48h"},
             {"name": "a week cap", "max_touches": 20, "within": "7d"},
             {"name": "no promotion during a case", "block_teams": ["marketing", "sales"], "while": "open_case"}]
    result = run(write(tmp_path / "p", sources, rules, cases), TODAY)
    block = result.as_dict()["rules"][2]
    order = [e["customer"] for e in block["examples"]]
    assert order == ["TWELVE", "TIE_A", "TIE_B", "LOUD", "SPREAD"]
    got = {e["customer"]: e for e in block["examples"]}
    assert {c: e["teams_within_window"] for c, e in got.items()} == \
        {"TWELVE": 5, "TIE_A": 3, "TIE_B": 3, "LOUD": 2, "SPREAD": 1}
    assert got["TWELVE"]["window"] == "2d"                    # the shortest cap window, not the week
    assert got["TWELVE"]["touches_per_day"] == round(5 / (3 + 2 / 24), 2)
    assert got["TIE_A"]["touches_per_day"] == round(3 / 2, 2) and got["TIE_B"]["touches_per_day"] == round(3 / 4, 2)
    assert got["LOUD"]["touches"] == 12 > got["TWELVE"]["touches"]     # most blocked touches, yet fourth
    notes = result.as_dict()["stale_states"]
    assert notes == [{"state": "open_case", "periods": 1, "customers": 1, "oldest": t(1).isoformat(),
                      "examples": ["ANCIENT"]}]
    assert "ANCIENT" not in order


def test_most_teams_within_a_trailing_window_by_brute_force():
    import random
    rng = random.Random(11)
    for _ in range(200):
        times = sorted(rng.randrange(0, 500) for _ in range(rng.randrange(1, 25)))
        teams = [rng.choice("abcde") for _ in times]
        w = rng.randrange(1, 120)
        want = max(len({teams[j] for j in range(i + 1) if times[j] > times[i] - w}) for i in range(len(times)))
        assert most_teams_within(times, teams, w)[0] == want


def test_the_twelve_dollar_case_is_among_the_demo_worst_three(tmp_path):
    from accord.demo import write_demo
    from accord.analyze.touchpoints import touchpoints
    from accord.compute.connect import project_engine
    from accord.project.loader import load_project
    project = load_project(write_demo(tmp_path / "demo"))
    engine = project_engine(project)
    try:
        result = touchpoints(project, engine, project.settings.as_of)
    finally:
        engine.close()
    block = next(r for r in result.rules if r.name == "no promotion during an open case")
    worst = [e["customer"] for e in block.examples[:3]]
    assert "ACC-00427" in worst
    twelve = next(e for e in block.examples if e["customer"] == "ACC-00427")
    assert twelve["teams_within_window"] == 5 and twelve["opened"].startswith("2026-09-14")
    assert any(n["state"] == "open_case" and n["periods"] > 0 for n in result.stale_states)
