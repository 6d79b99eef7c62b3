"""The report's decisions in words: each ranked group of findings (`accord.priorities`) as one sentence with
its number and unit, who acts, and a "How we know" line that holds the statistics and file locations.

Leaders read the sentence; owners read the small print and the findings inside.
"""
from __future__ import annotations

from accord.analyze.bridge_words import amount, bridge_reason, sentence
from accord.findings import Finding
from accord.priorities import CURRENCIES, MetricFacts, rank
from accord.project.model import Project
from accord.report_context import label_of
from accord.report_views import FindingView, ItemView
from accord.words import plural, possessive

LEADER_KINDS = ("label", "contact", "handoff")
LEADER_CODES = ("green-but-stalled", "definition-drift", "unapproved-change", "reversed-contribution",
                "too-many-metrics", "stale-source")


def metric_facts(project: Project) -> dict[str, MetricFacts]:
    return {m.name: MetricFacts(m.confidence, m.unit, m.target.value if m.target else None)
            for m in project.metrics}


class Words:
    """Names as people say them: a metric's label, a team's lead."""

    def __init__(self, project: Project):
        self.project = project

    def label(self, name: str | None) -> str:
        if name and self.project.has_metric(name):
            return label_of(self.project, self.project.metric(name))
        return (name or "").replace("_", " ")

    def unit(self, name: str | None) -> str | None:
        return self.project.metric(name).unit if name and self.project.has_metric(name) else None

    def leads(self, teams) -> str:
        teams = list(dict.fromkeys(t for t in teams if t))
        people = [t.lead for name in teams if (t := self.project.team(name)) is not None and t.lead]
        if len(teams) > 3:      # many teams: their names say enough; the owners' sections hold the people
            people = []
        who = f"the {'lead' if len(teams) == 1 else 'leads'} of {_and(teams)}" if teams else "a leader"
        return who + (f" ({', '.join(people)})" if people else "")


def _and(words: list[str]) -> str:
    words = list(words)
    if not words:
        return ""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _where(f: Finding) -> str | None:
    if f.location is None or not f.location.file:
        return None
    return f"{f.location.file}:{f.location.line}" if f.location.line else f.location.file


def _places(findings) -> str:
    places = list(dict.fromkeys(p for f in findings if (p := _where(f))))
    if len(places) > 4:
        places = places[:4] + [f"{len(places) - 4} more"]
    return ", ".join(places)


def _number(value: float | None, unit: str | None) -> str:
    """A value with its unit for a sentence: $8.92M, 2,099, 21.7%."""
    if value is None:
        return "no value"
    if unit == "percent":
        return f"{value * 100:.1f}%" if abs(value) <= 1.5 else f"{value:.1f}%"
    if unit in CURRENCIES or abs(value) >= 100_000:
        return amount(value, unit)
    text = f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:,.3g}"
    suffix = {"minutes": " min", "hours": " h", "seconds": " s", "days": " days"}.get(unit or "", "")
    return text.replace("-", "−") + suffix


def _pct(x: float | None) -> str:
    return "" if x is None else f"{abs(x) * 100:.0f}%"


def _stat(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{x:.{digits}f}".replace("-", "−")


# ---------------------------------------------------------------- one sentence per kind

def _label_item(g, w: Words) -> tuple[str, str, str, str, tuple[str, ...]]:
    collision = next(iter(g.of("label-collision")), None)
    disagreements = g.of("source-disagreement")
    unresolved = next(iter(g.of("unresolved-conflict")), None)
    first = g.findings[0]
    label = (collision or unresolved or first).evidence.get("label") or w.label(first.metrics[0])
    teams = sorted({t for f in g.findings for t in f.teams})
    how_parts: list[str] = []
    if collision is not None:
        e = collision.evidence
        defs = sorted((d for d in e.get("definitions") or () if d.get("value") is not None),
                      key=lambda d: -d["value"])
        unit = next((d.get("unit") or w.unit(d.get("metric")) for d in defs), None)
        numbers = ", ".join(f"{d.get('team') or d['metric']} {_number(d['value'], unit)}" for d in defs)
        n = len(e.get("definitions") or ())
        sentence = f"“{label}” means {n} different numbers for {e.get('period')}"
        if len(defs) > 1:
            gap = defs[0]["value"] - defs[-1]["value"]
            gap_words = (f"a {_number(gap, unit)} gap" if unit in CURRENCIES
                         else f"a gap of {_number(gap, unit)} ({_pct(e.get('spread'))})")
            sentence += f": {numbers} — {gap_words}"
        if e.get("spread") is not None:
            how_parts.append(f"spread {_pct(e['spread'])} (limit {_pct(e.get('spread_limit'))})")
        if collision.severity == "info":
            sentence += "; a decision covers it"
    else:
        sentence = f"“{label}” is counted differently by {_and(teams)}"
    if unresolved is not None:
        if unresolved.evidence.get("decision"):
            sentence += "; the decision on record leaves items open"
        else:
            sentence += "; no decision says which one is official"
    sentence += "."
    details = []
    for d in disagreements:
        text, stats = _bridge_words(d, w)
        details.append(text)
        how_parts.append(stats)
    if disagreements:
        how_parts.append(f"{len(disagreements)} record-by-record "
                         f"{'bridge' if len(disagreements) == 1 else 'bridges'}")
    how_parts.append(_places(g.findings))
    return f"“{label}”", sentence, w.leads(teams), " · ".join(p for p in how_parts if p), tuple(details)


def _bridge_words(f: Finding, w: Words) -> tuple[str, str]:
    """'Marketing's $8.92M against sales's $6.69M, a $2.23M gap: largest single reason …, partly offset by …'."""
    e = f.evidence
    a, b = e.get("a") or {}, e.get("b") or {}
    unit = w.unit(a.get("metric"))
    teams = {name: w.project.metric(name).team for name in (a.get("metric"), b.get("metric"))
             if name and w.project.has_metric(name)}
    who_a, who_b = teams.get(a.get("metric"), a.get("system")), teams.get(b.get("metric"), b.get("system"))
    gap = e.get("gap") or 0.0
    head = (f"{possessive(who_a)} {_number(a.get('value'), unit)} ({a.get('system') or a.get('source')}) against "
            f"{possessive(who_b)} {_number(b.get('value'), unit)} ({b.get('system') or b.get('source')}), "
            f"a {_number(abs(gap), unit)} gap")
    entity = None
    if a.get("source") and a["source"] in {s.name for s in w.project.sources}:
        entity = w.project.source(a["source"]).entity
    names = {n: teams.get(n, n) for n in (a.get("metric"), b.get("metric")) if n}
    reason = bridge_reason(gap, e.get("steps") or (), unit, lambda step: sentence(step, a, b, entity, names))
    stats = f"{who_a} vs {who_b}: {_pct(e.get('gap_relative'))} apart in {e.get('period')}"
    return f"{head}: {reason}." if reason else head + ".", stats


def _contact_item(g, w: Words):
    rules = g.findings
    top = rules[0].evidence
    teams = sorted({t for f in rules for t in f.teams})
    share = top.get("customer_share")
    sentence = (plural(int(top.get('customers') or 0), "customer")
                + (f" ({share * 100:.0f}% of those contacted)" if share is not None else "")
                + f" were contacted against the rule “{top.get('rule', rules[0].title)}”")
    if len(rules) > 1:
        most = max(int(f.evidence.get("customers") or 0) for f in rules[1:])
        sentence += (f"; {len(rules) - 1} more contact {'rule was' if len(rules) == 2 else 'rules were'} "
                     f"broken, for up to {plural(most, 'customer')}")
    sentence += "."
    details = tuple(f"“{f.evidence.get('rule', f.code)}”: {plural(int(f.evidence.get('customers') or 0), 'customer')}, "
                    f"{plural(int(f.evidence.get('touches') or 0), 'touch')} by {_and(list(f.teams))}" for f in rules)
    stopped = sum(int(f.evidence.get("suppressed") or 0) for f in rules)
    how = " · ".join(p for p in (f"rules enforced in real time would have held back {plural(stopped, 'touch')}",
                                 _places(rules)) if p)
    return "Customers over-contacted", sentence, w.leads(teams), how, details


def _handoff_item(g, w: Words):
    f = g.findings[0]
    e = f.evidence
    up, down = e.get("upstream") or {}, e.get("downstream") or {}
    periods = e.get("periods") or ("", "")

    def move(s):
        values = s.get("values") or (None, None)
        unit = s.get("unit") or w.unit(s.get("metric"))
        change = s.get("change")
        verb = "rose" if (change or 0) > 0 else "fell"
        return (f"{possessive(s.get('team'))} {w.label(s.get('metric'))} {verb} {_pct(change)} "
                f"({_number(values[0], unit)} → {_number(values[1], unit)})")

    sentence = f"{move(up)} while {move(down)}, {periods[0]} to {periods[-1]}"
    if len(g.findings) > 1:
        sentence += f"; {len(g.findings) - 1} more {'pair' if len(g.findings) == 2 else 'pairs'} on this handoff"
    sentence += "."
    stats = []
    if e.get("weekly_correlation") is not None:
        stats.append(f"weekly r {_stat(e['weekly_correlation'])}"
                     + (f" over {e['weekly_changes']} changes" if e.get("weekly_changes") else ""))
    for key, words in (("lag", "lag"), ("p_value_adjusted", "adjusted p")):
        if e.get(key) is not None:
            stats.append(f"{words} {e[key] if key == 'lag' else _stat(e[key], 3)}")
    if e.get("gain_limit") is not None:
        stats.append(f"gain limit {_pct(e['gain_limit'])}, loss limit {_pct(e.get('loss_limit'))}")
    stats.append(_places(g.findings))
    teams = list(dict.fromkeys([up.get("team"), down.get("team")]))
    details = tuple(_handoff_pair(x.evidence, w) for x in g.findings[1:])
    return f"Handoff {' → '.join(t for t in teams if t)}", sentence, w.leads(teams), " · ".join(stats), details


def _handoff_pair(e: dict, w: Words) -> str:
    up, down = e.get("upstream") or {}, e.get("downstream") or {}
    return (f"{w.label(up.get('metric'))} {'+' if (up.get('change') or 0) >= 0 else '−'}{_pct(up.get('change'))}, "
            f"{w.label(down.get('metric'))} {'+' if (down.get('change') or 0) >= 0 else '−'}{_pct(down.get('change'))}")


def _stalled_item(g, w: Words):
    f = g.findings[0]
    e = f.evidence
    name = e.get("metric")
    unit = w.unit(name)
    m = w.project.metric(name) if name and w.project.has_metric(name) else None
    children = e.get("children") or ()
    green = [c for c in children if c.get("status") == "green"]
    want = "rising" if e.get("direction", "up") == "up" else "falling"
    sentence = (f"{w.label(name)} is not {want} ({_number(e.get('value'), unit)} in {e.get('period')}"
                + (f", target {_number(m.target.value, unit)}" if m is not None and m.target else "")
                + f") although {len(green)} of {len(children)} numbers feeding it are on target.")
    stats = [f"Mann–Kendall p {_stat(e.get('p_value'))} over {e.get('trend_periods')} {e.get('trend_grain')}s"
             f" ({e.get('trend_from')} to {e.get('trend_to')})"]
    if e.get("slope") is not None:
        stats.append(f"Theil–Sen slope {_number(e['slope'], unit)} a {e.get('trend_grain', 'week')}")
    stats.append(_places(g.findings))
    details = tuple(f"{w.label(c.get('metric'))} ({c.get('team')}): {_number(c.get('value'), w.unit(c.get('metric')))}"
                    f"{', on target' if c.get('status') == 'green' else ', off target'}" for c in children)
    return w.label(name), sentence, f.owner or w.leads(f.teams), " · ".join(stats), details


def _reversed_item(g, w: Words):
    f = g.findings[0]
    e = f.evidence
    child, parent = (f.metrics + (None, None))[:2]
    want = "raise" if e.get("effect", "raises") == "raises" else "lower"
    got = "lowering" if want == "raise" else "raising"
    sentence = (f"{w.label(child)} is meant to {want} {w.label(parent)}, but over {e.get('periods')} "
                f"{e.get('grain', 'week')}s its changes go with {got} it.")
    stats = (f"correlation {_stat(e.get('correlation'))} at {e.get('best_lag')} {e.get('grain', 'week')}s, "
             f"adjusted p {_stat(e.get('p_value_adjusted'), 3)} · {_places(g.findings)}")
    return f"{w.label(child)} → {w.label(parent)}", sentence, f.owner or w.leads(f.teams), stats, ()


SWEEP_WORDS = {
    "missing-owner": ("Numbers nobody owns", "{n} {metrics} {have} no owner: {names}."),
    "missing-decision": ("Numbers without a purpose", "{n} {metrics} name no decision {they} support: {names}."),
    "no-exclusions": ("Exclusions not written down", "{n} {metrics} do not say what {they} leave out: {names}."),
    "ratio-mismatch": ("Rates over two populations",
                       "In {n} {rates}, one side leaves out records the other side counts: {names}."),
    "orphan-metric": ("Numbers that feed nothing", "{n} {metrics} {feed} no company number: {names}."),
    "unknown-reference": ("Broken references", "{n} {metrics} point at something that is not defined: {names}."),
    "unsupported-contribution": ("Contributions the data does not show",
                                 "{n} claimed {contributions} do not show in the data: {names}."),
    "missing-balancing-metric": ("Volume without quality",
                                 "{n} volume {metrics} {have} no quality counterpart: {names}."),
}


def _sweep_item(g, w: Words):
    code = g.findings[0].code
    n = len(g.findings)
    if code == "unsupported-contribution":
        subjects = [" → ".join(w.label(m) for m in f.metrics[:2]) for f in g.findings]
    else:
        subjects = list(dict.fromkeys(w.label(m) for f in g.findings for m in f.metrics[:1]))
    names = ", ".join(subjects[:3]) + (f" and {len(subjects) - 3} more" if len(subjects) > 3 else "")
    head, pattern = SWEEP_WORDS.get(code, (code.replace("-", " ").capitalize(), "{n} {findings}: {names}."))
    sentence = pattern.format(n=f"{n:,}", metrics="metric" if n == 1 else "metrics", have="has" if n == 1 else "have",
                              they="it" if n == 1 else "they", names=names,
                              contributions="contribution" if n == 1 else "contributions",
                              findings="finding" if n == 1 else "findings", feed="feeds" if n == 1 else "feed",
                              rates="rate" if n == 1 else "rates")
    if code not in SWEEP_WORDS and n == 1:
        sentence = _minus(g.findings[0].title) + "."
    owners = sorted({f.owner for f in g.findings if f.owner})
    if code == "missing-owner":
        who = w.leads(sorted({t for f in g.findings for t in f.teams}))
    else:
        who = owners[0] if len(owners) == 1 else f"their {len(owners)} owners" if owners else "nobody named"
    return head, sentence, who, f"{code} · {_places(g.findings)}", ()


def _single_item(g, w: Words):
    f = g.findings[0]
    words = {"green-but-stalled": _stalled_item, "reversed-contribution": _reversed_item}
    if f.code in words:
        return words[f.code](g, w)
    if f.code == "source-disagreement":
        text, stats = _bridge_words(f, w)
        return w.label(f.metrics[0]) if f.metrics else f.code, text, f.owner or w.leads(f.teams), \
            f"{stats} · {_places(g.findings)}", ()
    head = SINGLE_HEADS.get(f.code, "").format(**{k: v for k, v in f.evidence.items() if isinstance(v, str)}) \
        if f.code in SINGLE_HEADS else " → ".join(w.label(m) for m in f.metrics[:2]) or f.code.replace("-", " ")
    head = head[:1].upper() + head[1:]
    title = _minus(f.title.rstrip("."))
    return head, title + ".", f.owner or w.leads(f.teams) or "nobody named", f"{f.code} · {_places(g.findings)}", ()


def _minus(text: str) -> str:
    import re
    return re.sub(r"(?<![\w.])-(?=[\d$€£.])", "−", text)


SINGLE_HEADS = {"too-many-metrics": "Too many {level} numbers in {team}", "stale-source": "Data that stopped",
                "definition-drift": "An official number changed", "unapproved-change": "An agreed number changed"}

BUILDERS = {"label": _label_item, "contact": _contact_item, "handoff": _handoff_item, "sweep": _sweep_item,
            "single": _single_item}


def items(project: Project, findings: list[Finding], views: dict[int, FindingView],
          see: dict[str, tuple[str, str]] | None = None) -> tuple[ItemView, ...]:
    """Every open decision in words, most impact first. `views` maps id(finding) to its FindingView; `see`
    maps a finding code to the (key, title) of the section that lays it out."""
    w = Words(project)
    out = []
    for i, r in enumerate(rank(findings, metric_facts(project)), start=1):
        g = r.group
        headline, sentence, who, how, details = BUILDERS[g.kind](g, w)
        sentence = sentence[:1].upper() + sentence[1:]
        leader = g.kind in LEADER_KINDS or any(f.code in LEADER_CODES for f in g.findings)
        sections = [see[c] for c in g.codes if see and c in see]
        out.append(ItemView(anchor=f"item-{i}", kind=g.kind, headline=headline, sentence=sentence, who=who,
                            how=how, severity=r.impact.severity, score=r.impact.score, details=details,
                            findings=tuple(views[id(f)] for f in g.findings if id(f) in views),
                            see=sections[0] if sections else None, leader=leader))
    return tuple(out)
