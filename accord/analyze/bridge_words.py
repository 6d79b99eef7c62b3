"""A bridge step in the words people say in a meeting: '−$1.26M · 37 opportunities exist only in …'."""
from __future__ import annotations

from accord.words import possessive


def compact(value: float, unit: str | None = None) -> str:
    """−$1.26M, +37, +$4.2k: signed and short. A count under a million is written whole (−1,609), as the
    records each step counts are, so one bridge never mixes −1.61k with 1,609."""
    sign = "−" if value < 0 else "+"
    v = abs(value)
    prefix = {"usd": "$", "eur": "€", "gbp": "£"}.get(unit or "", "")
    if unit in (None, "count") and v < 1e6 and float(v).is_integer():
        return f"{sign}{v:,.0f}"
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if v >= size:
            return f"{sign}{prefix}{v / size:.3g}{suffix}"
    return f"{sign}{prefix}{v:,.0f}" if float(v).is_integer() or v >= 100 else f"{sign}{prefix}{v:.3g}"


def amount(value: float, unit: str | None = None) -> str:
    """$4.45M, −$1.2k, 37: short, signed only when negative."""
    return compact(value, unit).lstrip("+")


def bridge_reason(gap: float, steps, unit: str | None, words) -> str:
    """The largest step of a bridge in honest words: when other steps run the other way, say by how much.

    `steps` are dicts with a `delta`; `words(step)` tells one step. 'largest single reason −$4.45M: 237
    opportunities …; partly offset by +$3.74M from 2 differences, the largest +$2.3M: 128 opportunities …'.
    """
    steps = sorted(steps, key=lambda s: -abs(s["delta"]))
    if not steps:
        return ""
    largest = steps[0]
    against = [s for s in steps if gap and (s["delta"] > 0) != (gap > 0)]
    if gap and largest in against:
        return f"the largest single step, {compact(largest['delta'], unit)}, runs against the gap: {words(largest)}"
    text = f"largest single reason {compact(largest['delta'], unit)}: {words(largest)}"
    if against:
        total = sum(s["delta"] for s in against)
        biggest = against[0]
        if len(against) == 1:
            text += f"; partly offset by {compact(total, unit)} from {words(biggest)}"
        else:
            text += (f"; partly offset by {compact(total, unit)} from {len(against)} differences, the largest "
                     f"{compact(biggest['delta'], unit)}: {words(biggest)}")
    return text


def offset(gap: float, steps) -> float:
    """What the steps running against the gap add up to (0 when none do)."""
    return sum(s["delta"] for s in steps if gap and (s["delta"] > 0) != (gap > 0))


def _plural(entity: str | None, n: int) -> str:
    word = entity or "record"
    if n == 1:
        return word
    return word[:-1] + "ies" if word.endswith("y") and word[-2:-1] not in "aeiou" else word + "s"


def sentence(step: dict, a: dict, b: dict, entity: str | None, teams: dict[str, str]) -> str:
    n, what = step["records"], _plural(entity, step["records"])
    sys_a, sys_b = (a.get("system") or a["source"]).replace("_", " "), (b.get("system") or b["source"]).replace("_", " ")
    kind, side, clause = step["kind"], step["side"], step["clause"]
    one = n == 1
    if kind == "only-in-a":
        return f"{n:,} {what} exist{'s' if one else ''} only in {sys_a}"
    if kind == "only-in-b":
        return f"{n:,} {what} exist{'s' if one else ''} only in {sys_b}"
    if kind == "no-key":
        return f"{n:,} {what} counted by {a['metric'] if side == 'a' else b['metric']} {'has' if one else 'have'} no key to match"
    if kind == "value-differs":
        return f"{n:,} {what} {'has' if one else 'have'} a different value in {sys_b} than in {sys_a}"
    owner = teams[b["metric"]] if side == "b" else teams[a["metric"]]
    counted = a["metric"] if side == "b" else b["metric"]
    if kind == "clause" and clause == "period":
        return f"{n:,} {what} counted by {counted} fall{'s' if one else ''} in another period by {possessive(owner)} date"
    if kind == "clause":
        return f"{n:,} {what} counted by {counted} {'is' if one else 'are'} left out by {possessive(owner)} rule '{clause}'"
    return f"{n:,} {what} counted by {counted} fail{'s' if one else ''} several of {possessive(owner)} rules"


def short_label(step: dict, a: dict, b: dict, teams: dict[str, str]) -> str:
    """A few words for a chart axis: 'only in crm', 'sales: qualified stages'."""
    kind, side = step["kind"], step["side"]
    if kind in ("only-in-a", "only-in-b"):
        where = a if kind == "only-in-a" else b
        return f"only in {(where.get('system') or where['source']).replace('_', ' ')}"
    if kind == "value-differs":
        return "different values"
    team = teams.get((b if side == "b" else a)["metric"], side)
    if kind == "no-key":
        return f"{team}: no key"
    if kind == "clause":
        return f"{team}: {step['clause']}" if step["clause"] != "period" else f"{team}: another period"
    return f"{team}: several rules"
