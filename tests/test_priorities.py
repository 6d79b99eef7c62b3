"""The five things that matter: grouping into one decision each, and the impact order, on hand-built findings
whose order is known from the documented score."""
from __future__ import annotations

import math

import pytest

from accord.findings import Finding
from accord.priorities import MetricFacts, group_findings, impact, rank

FACTS = {
    "board_pipe": MetricFacts("board-grade", "usd"),
    "mkt_pipe": MetricFacts("directional", "usd"),
    "small_a": MetricFacts("directional", "usd"),
    "small_b": MetricFacts(None, "usd"),
    "leads": MetricFacts("decision-grade", "count"),
    "accepted_rate": MetricFacts("decision-grade", "percent"),
    "ltv": MetricFacts("board-grade", "usd", target=210_000.0),
    "orphan_a": MetricFacts(None, "count"),
    "orphan_b": MetricFacts(None, "count"),
}


def collision(label, a, b, va, vb, severity="error", spread=None):
    spread = spread if spread is not None else abs(va - vb) / max(abs(va), abs(vb))
    return Finding("label-collision", severity, f"'{label}' means 2 things", metrics=tuple(sorted((a, b))),
                   evidence={"label": label, "period": "2026-Q3", "spread": spread,
                             "definitions": [{"metric": a, "value": va, "unit": FACTS[a].unit},
                                             {"metric": b, "value": vb, "unit": FACTS[b].unit}]})


def disagreement(a, b, gap):
    return Finding("source-disagreement", "error", "sources disagree", metrics=(a, b),
                   evidence={"period": "2026-Q3", "gap": gap, "gap_relative": gap / 1e6,
                             "a": {"metric": a}, "b": {"metric": b}, "steps": []})


def unresolved(label, a, b):
    return Finding("unresolved-conflict", "error", "no decision", metrics=(a, b),
                   evidence={"label": label, "decision": None})


def contact(rule, customers, share, severity="error"):
    return Finding("touchpoint-overload", severity, rule, teams=("marketing", "sales"),
                   evidence={"rule": rule, "customers": customers, "customer_share": share})


def handoff(up, down, before, after):
    return Finding("handoff-collision", "error", "handoff", metrics=(up, down), teams=("marketing", "sales"),
                   evidence={"handoff": "leads", "upstream": {"metric": up, "values": [1, 2], "change": 1.0},
                             "downstream": {"metric": down, "values": [before, after],
                                            "change": (after - before) / before}})


def hand_score(severity, grade, stake):
    """The documented formula, written out again."""
    return {"error": 3, "warning": 2, "info": 1}[severity] * grade * (1 + math.log10(1 + stake))


def test_a_labels_collision_bridges_and_open_conflict_are_one_item():
    found = [disagreement("board_pipe", "mkt_pipe", -2_230_000), collision("Pipeline", "board_pipe", "mkt_pipe",
                                                                             6_690_000, 8_920_000),
             unresolved("Pipeline", "board_pipe", "mkt_pipe"), contact("cap", 10, 0.01)]
    groups = group_findings(found)
    assert [g.kind for g in groups] == ["label", "contact"]
    label = groups[0]
    assert [f.code for f in label.findings] == ["label-collision", "source-disagreement", "unresolved-conflict"]


def test_labels_group_by_the_word_people_say_not_by_case():
    found = [collision("Pipeline", "board_pipe", "mkt_pipe", 1.0, 2.0),
             unresolved("pipeline", "board_pipe", "mkt_pipe"), collision("Leads", "small_a", "small_b", 1.0, 3.0)]
    assert len(group_findings(found)) == 2


def test_the_order_follows_the_documented_score():
    big_label = [collision("Pipeline", "board_pipe", "mkt_pipe", 6_690_000, 8_920_000),
                 unresolved("Pipeline", "board_pipe", "mkt_pipe")]
    small_label = [collision("Bookings", "small_a", "small_b", 100_000, 150_000, severity="warning")]
    customers = [contact("at most 3 in 48h", 2_000, 0.14), contact("quiet nights", 500, 0.03, "warning")]
    count_label = [collision("Qualified leads", "leads", "accepted_rate", 2_099, 490)]
    lint = [Finding("orphan-metric", "warning", "feeds nothing", metrics=("orphan_a",)),
            Finding("orphan-metric", "warning", "feeds nothing", metrics=("orphan_b",))]
    stalled = [Finding("green-but-stalled", "error", "stalled", metrics=("ltv",),
                       evidence={"metric": "ltv", "value": 192_000.0})]
    found = lint + count_label + customers + small_label + stalled + big_label
    ranked = rank(found, FACTS)
    keys = [r.group.key for r in ranked]
    # by hand: Pipeline 3×3×(1+log10(1+2.23M)) = 66.1; LTV 3×3×(1+log10(1+18k)) = 47.3;
    # customers 3×1×(1+log10(1+2000×1000)) = 21.9; Qualified leads 3×2×1 = 6 (a count stakes nothing);
    # Bookings 2×1×(1+log10(1+50k)) = 11.4; orphans 2×1×1 = 2
    expected = {
        "label:pipeline": hand_score("error", 3, 2_230_000),
        "single:green-but-stalled:ltv:stalled": hand_score("error", 3, 18_000),
        "contact": hand_score("error", 1, 2_000 * 1_000),
        "label:bookings": hand_score("warning", 1, 50_000),
        "label:qualified leads": hand_score("error", 2, 0),
        "sweep:orphan-metric": hand_score("warning", 1, 0),
    }
    assert keys == sorted(expected, key=lambda k: -expected[k])
    for r in ranked:
        assert r.impact.score == pytest.approx(expected[r.group.key])
    assert keys[:5] == ["label:pipeline", "single:green-but-stalled:ltv:stalled", "contact", "label:bookings",
                        "label:qualified leads"]


def test_the_contact_policy_is_one_item_staked_by_its_most_broken_rule():
    [g] = group_findings([contact("quiet nights", 4_888, 0.29, "warning"), contact("cap", 2_342, 0.14)])
    assert g.findings[0].evidence["rule"] == "cap"          # the error first
    i = impact(g, FACTS)
    assert i.stake == 4_888 and i.stake_unit == "customers" and i.severity == "error"


def test_a_handoff_stakes_what_the_downstream_team_lost():
    money = Finding("handoff-collision", "error", "h", metrics=("leads", "board_pipe"),
                    evidence={"handoff": "leads", "upstream": {"metric": "leads", "values": [10, 20], "change": 1.0},
                              "downstream": {"metric": "board_pipe", "values": [5_000_000, 4_000_000],
                                             "change": -0.2}})
    i = impact(group_findings([money])[0], FACTS)
    assert i.stake == 1_000_000 and i.grade == "board-grade"
    assert i.score == pytest.approx(hand_score("error", 3, 1_000_000))
    rate = handoff("leads", "accepted_rate", 0.26, 0.22)
    assert impact(group_findings([rate])[0], FACTS).stake == 0


def test_more_at_stake_never_ranks_lower():
    for low, high in ((1_000, 2_000), (10, 10_000_000)):
        a = collision("A", "small_a", "small_b", 0.0, low)
        b = collision("B", "small_a", "small_b", 0.0, high)
        assert [r.group.key for r in rank([a, b], FACTS)] == ["label:b", "label:a"]


def test_a_higher_grade_or_severity_ranks_first_at_equal_stake():
    plain = collision("A", "small_a", "small_b", 0.0, 1_000)
    board = collision("B", "board_pipe", "small_b", 0.0, 1_000)
    warning = collision("C", "small_a", "small_b", 0.0, 1_000, severity="warning")
    assert [r.group.key for r in rank([warning, plain, board], FACTS)] == ["label:b", "label:a", "label:c"]


def test_accepted_findings_are_not_ranked():
    f = collision("A", "small_a", "small_b", 0.0, 1_000).with_acceptance({"owner": "x", "reason": "y",
                                                                          "until": "2030-01-01"})
    assert rank([f], FACTS) == []
