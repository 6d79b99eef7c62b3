"""The morning digest as an email: a plain-text part and an HTML part (inline CSS, tables, PNG charts attached by
Content-ID; no script, no SVG, no external image), with Date, Message-ID and, when served, List-Unsubscribe.

Every value cell of the HTML carries the metric, grain, period and as-of of the compute row it shows
(`data-metric`, `data-grain`, `data-period`, `data-as-of`), so a reader (or a test) can find where it came from.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from html import escape

from accord.morning.content import Digest, NumberCard
from accord.morning.numbers import Comparison, change_shown, shown

CHARTS = 8          # at most this many PNG charts per email (the first metrics shown)
CHANGES = 12        # changes listed; the rest are counted (`accord check` lists them all)
WIDTH = 600         # px: the width mail clients render best


@dataclass(frozen=True)
class Links:
    """Links in the email: none without `serve.base_url`; `unsubscribe` is a signed link for this person."""

    base: str | None = None
    unsubscribe: str | None = None

    def metric(self, name: str) -> str | None:
        return f"{self.base.rstrip('/')}/metrics/{name}" if self.base else None


def subject(d: Digest) -> str:
    what = "company numbers" if d.leader else "your numbers"
    todo = f", {len(d.todo)} to do" if d.todo else ""
    return f"{d.project}: {what} for {_day(d.day - dt.timedelta(days=1))}{todo}"


def _day(day: dt.date) -> str:
    return f"{day:%a} {day.day} {day:%b} {day.year}"


def _when(c: Comparison) -> tuple[str, str]:
    """The two periods compared, in words: ("Sun 4 Oct 2026", "Sat 3 Oct 2026") or ("2026-W40, 7 of 7 days", …)."""
    return _period(c.current, True), _period(c.previous)


def _period(f, current: bool = False) -> str:
    """A figure's period in words; the current one says how much of it has passed."""
    if f.grain == "day":
        return _day(f.through)
    words = f"{f.period} through {f.through.day} {f.through:%b}"
    if current:
        words += ", complete" if f.complete else f", {f.days} of {f.length} days"
    return words


def _pace_words(card: NumberCard) -> str | None:
    p = card.numbers.pace
    if p is None:
        return None
    unit = card.view.unit
    goal = shown(p.target, unit)
    if p.status == "no data":
        return f"Target {goal} per {card.view.target.period}: no data yet this {card.view.target.period}."
    gone = f"{p.share_gone * 100:.0f}% of {p.figure.period} gone"
    if p.prorated:
        return (f"Target {goal} for {p.figure.period}: {shown(p.figure.value, unit)} so far against "
                f"{shown(p.expected, unit)} expected by now ({gone}): {p.status}.")
    return f"Target {goal} for {p.figure.period}: {shown(p.figure.value, unit)} so far ({gone}): {p.status}."


def _last_period(card: NumberCard) -> str | None:
    v = card.view
    if v.target_status in ("met", "missed") and v.period:
        return f"Last complete {v.grain} {v.period}: {shown(v.value, v.unit)}, target {v.target_status}."
    return None


# ---------------------------------------------------------------- plain text

def text(d: Digest, links: Links = Links()) -> str:
    lines = [subject(d), ""]
    y = d.day - dt.timedelta(days=1)
    lines.append(f"Numbers up to the end of {_day(y)} (data to yesterday), as of {d.day.isoformat()}.")
    if d.first:
        lines.append("This is your first digest: from the next one on, it lists what changed since the last.")
    lines.append("")
    lines.append("COMPANY NUMBERS" if d.leader else "YOUR NUMBERS")
    if not d.numbers:
        lines.append("  No metric is yours or your team's.")
    for card in d.numbers:
        v = card.view
        lines.append(f"* {v.label} ({v.name}, {v.team}){' - ' + links.metric(v.name) if links.base else ''}")
        groups: dict[tuple[str, str], list[Comparison]] = {}
        for c in card.numbers.comparisons:
            groups.setdefault((c.what, c.current.period), []).append(c)
        for (what, _), cs in groups.items():
            now = _period(cs[0].current, True)
            against = []
            for c in cs:
                change = change_shown(c, v.unit)
                against.append(f"{c.against} ({_period(c.previous)}) {shown(c.previous.value, v.unit)}"
                               + (f", {change}" if change else ""))
            lines.append(f"    {what}, {now}: {shown(cs[0].current.value, v.unit)}; " + "; ".join(against))
        for words in (_pace_words(card), _last_period(card)):
            if words:
                lines.append(f"    {words}")
    if d.feeds:
        lines += ["", "WHAT THEY FEED"]
        for f in d.feeds:
            lines.append(f"* {_label(d, f.metric)} feeds {f.parent_label}: the link {f.words}.")
            lines.append(f"    {f.kpi_label}: {shown(f.kpi_value, f.kpi_unit)} in {f.kpi_period or 'no period'}, "
                         f"{f.kpi_trend}.")
    if d.items:
        lines += ["", "THE FIVE MOST IMPORTANT OPEN ITEMS"]
        for i in d.items:
            lines.append(f"* {i.headline}: {i.sentence} ({i.who})")
    lines += ["", "WHAT CHANGED" + (f" SINCE YOUR LAST DIGEST ({d.since})" if d.since else
                                    ": OPEN FINDINGS THAT CONCERN YOU" if d.first else "")]
    if not d.changes:
        lines.append("  Nothing.")
    for c in d.changes[:CHANGES]:
        lines.append(f"* {_change_words(c)}")
    if len(d.changes) > CHANGES:
        lines.append(f"  … and {len(d.changes) - CHANGES} more (accord check lists every finding)")
    lines += ["", "YOURS TO DO"]
    if not d.todo:
        lines.append("  Nothing.")
    for t in d.todo:
        lines.append(f"* {t.text}")
    if links.unsubscribe:
        lines += ["", f"Stop these emails: {links.unsubscribe}"]
    return "\n".join(lines) + "\n"


def _label(d: Digest, name: str) -> str:
    return next((c.view.label for c in d.numbers if c.view.name == name), name)


CHANGE_WORDS = {"new": "New finding", "open": "Open finding", "resolved": "Resolved", "decision": "Decision", "definition": "Definition",
                "stale": "Stale source"}


def _change_words(c) -> str:
    out = f"{CHANGE_WORDS[c.kind]}: {c.text}"
    if c.severity:
        out += f" ({c.severity})"
    for i in c.impact:
        if i.get("old") is not None and i.get("new") is not None:
            rel = f", {i['change'] * 100:+.1f}%" if i.get("change") is not None else ""
            out += f"; in {i['period']} it was {i['old']:,.6g} and is now {i['new']:,.6g}{rel}"
    return out


# ---------------------------------------------------------------- HTML

_CSS = {
    "body": "margin:0;padding:0;background:#f4f5f7;",
    "wrap": f"max-width:{WIDTH}px;width:100%;margin:0 auto;background:#ffffff;font-family:Arial,Helvetica,sans-serif;"
            "color:#1f2328;font-size:14px;line-height:1.45;",
    "h1": "font-size:20px;margin:0 0 4px 0;",
    "h2": "font-size:16px;margin:20px 0 8px 0;padding-bottom:4px;border-bottom:2px solid #d0d7de;",
    "h3": "font-size:15px;margin:14px 0 4px 0;",
    "small": "color:#57606a;font-size:12px;",
    "table": "width:100%;border-collapse:collapse;table-layout:fixed;",
    "th": "text-align:left;font-size:12px;color:#57606a;font-weight:normal;padding:3px 4px;"
          "border-bottom:1px solid #d0d7de;word-wrap:break-word;",
    "td": "padding:3px 4px;border-bottom:1px solid #eaeef2;vertical-align:top;word-wrap:break-word;"
          "overflow-wrap:anywhere;",
    "num": "padding:3px 4px;border-bottom:1px solid #eaeef2;text-align:right;white-space:nowrap;",
    "change": "padding:3px 4px;border-bottom:1px solid #eaeef2;text-align:right;word-wrap:break-word;",
    "li": "margin:0 0 6px 0;",
    "good": "color:#1a7f37;", "bad": "color:#cf222e;",
}


def _s(key: str) -> str:
    return f' style="{_CSS[key]}"'


def _value_cell(f, unit: str | None) -> str:
    return (f'<td{_s("num")} data-metric="{escape(f.metric)}" data-grain="{f.grain}" data-period="{escape(f.period)}" '
            f'data-as-of="{f.as_of.isoformat()}">{escape(shown(f.value, unit))}</td>')


def _card_html(card: NumberCard, chart_cid: str | None, links: Links) -> str:
    v = card.view
    title = escape(v.label)
    url = links.metric(v.name)
    if url:
        title = f'<a href="{escape(url)}" style="color:#0969da;">{title}</a>'
    out = [f'<h3{_s("h3")}>{title} <span{_s("small")}>{escape(v.name)} · {escape(v.team)}</span></h3>']
    rows = []
    for c in card.numbers.comparisons:
        now, before = _when(c)
        change = change_shown(c, v.unit)
        tone = ""
        if change and c.change and v.target is not None:
            tone = "good" if (c.change > 0) == (v.target.direction == "up") else "bad"
        rows.append(f"<tr><td{_s('td')}>{escape(c.what)}<br><span{_s('small')}>{escape(now)}</span></td>"
                    + _value_cell(c.current, v.unit)
                    + f"<td{_s('td')}><span{_s('small')}>{escape(c.against)}, {escape(before)}</span></td>"
                    + _value_cell(c.previous, v.unit)
                    + f'<td{_s("change")}><span style="{_CSS[tone] if tone else ""}">{escape(change)}</span></td></tr>')
    out.append(f'<table role="presentation"{_s("table")}><colgroup><col style="width:26%"><col style="width:16%">'
               f'<col style="width:26%"><col style="width:16%"><col style="width:16%"></colgroup>'
               f"<tr><th{_s('th')}>Period</th><th{_s('th')}>Value</th><th{_s('th')}>Compared with</th>"
               f"<th{_s('th')}>Value</th><th{_s('th')}>Change</th></tr>{''.join(rows)}</table>")
    for words in (_pace_words(card), _last_period(card)):
        if words:
            out.append(f'<p style="margin:4px 0;">{escape(words)}</p>')
    if chart_cid:
        out.append(f'<img src="cid:{chart_cid}" width="560" alt="{escape(v.label)}: recent {v.grain}s" '
                   'style="display:block;width:100%;max-width:560px;height:auto;border:0;">')
    return "".join(out)


def html(d: Digest, links: Links = Links(), charts: dict[str, str] | None = None) -> str:
    """The HTML part; `charts` maps a metric to the Content-ID of its chart."""
    charts = charts or {}
    y = d.day - dt.timedelta(days=1)
    parts = [f'<h1{_s("h1")}>{escape(subject(d))}</h1>',
             f'<p{_s("small")}>Numbers up to the end of {escape(_day(y))} (data to yesterday), as of '
             f"{d.day.isoformat()}.</p>"]
    if d.first:
        parts.append(f'<p{_s("small")}>This is your first digest: from the next one on, it lists what changed '
                     "since the last.</p>")
    parts.append(f'<h2{_s("h2")}>{"Company numbers" if d.leader else "Your numbers"}</h2>')
    if not d.numbers:
        parts.append("<p>No metric is yours or your team's.</p>")
    for card in d.numbers:
        parts.append(_card_html(card, charts.get(card.view.name), links))
    if d.feeds:
        parts.append(f'<h2{_s("h2")}>What they feed</h2><ul style="padding-left:18px;margin:0;">')
        for f in d.feeds:
            parts.append(f'<li{_s("li")}><b>{escape(_label(d, f.metric))}</b> feeds {escape(f.parent_label)}: the '
                         f"link {escape(f.words)}.<br><span{_s('small')}>{escape(f.kpi_label)}: "
                         f"{escape(shown(f.kpi_value, f.kpi_unit))} in {escape(f.kpi_period or 'no period')}, "
                         f"{escape(f.kpi_trend)}.</span></li>")
        parts.append("</ul>")
    if d.items:
        parts.append(f'<h2{_s("h2")}>The five most important open items</h2><ol style="padding-left:20px;margin:0;">')
        for i in d.items:
            parts.append(f"<li{_s('li')}><b>{escape(i.headline)}</b>: {escape(i.sentence)} "
                         f"<span{_s('small')}>({escape(i.who)})</span></li>")
        parts.append("</ol>")
    since = f" since your last digest ({d.since})" if d.since else ": open findings that concern you" if d.first else ""
    parts.append(f'<h2{_s("h2")}>What changed{since}</h2>')
    more = len(d.changes) - CHANGES
    parts.append(_list([_change_words(c) for c in d.changes[:CHANGES]]
                       + ([f"… and {more} more (accord check lists every finding)"] if more > 0 else [])))
    parts.append(f'<h2{_s("h2")}>Yours to do</h2>')
    parts.append(_list([t.text for t in d.todo]))
    if links.unsubscribe:
        parts.append(f'<p{_s("small")} style="margin-top:24px;"><a href="{escape(links.unsubscribe)}" '
                     'style="color:#57606a;">Stop these emails</a></p>')
    body = "".join(parts)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(subject(d))}</title></head><body{_s('body')}>"
            f'<div{_s("wrap")}><div style="padding:16px;">{body}</div></div></body></html>')


def _list(items: list[str]) -> str:
    if not items:
        return "<p>Nothing.</p>"
    return '<ul style="padding-left:18px;margin:0;">' + "".join(
        f"<li{_s('li')}>{escape(i)}</li>" for i in items) + "</ul>"


# ---------------------------------------------------------------- charts

def chart_png(card: NumberCard) -> bytes | None:
    """The metric's recent complete periods as a small PNG line chart (None with fewer than two values)."""
    v = card.view
    points = [(p.period, p.value) for p in v.series if p.value is not None]
    if len(points) < 2:
        return None
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    fig = Figure(figsize=(5.6, 1.6), dpi=100)
    ax = fig.add_subplot()
    xs = list(range(len(points)))
    ax.plot(xs, [p[1] for p in points], color="#0969da", linewidth=2, marker="o", markersize=3)
    if v.target is not None and v.target.period == v.grain:
        ax.axhline(v.target.value, color="#cf222e", linewidth=1, linestyle="--")
    ax.set_xticks([xs[0], xs[-1]], [points[0][0], points[-1][0]], fontsize=8)
    ax.tick_params(axis="y", labelsize=8)
    ax.yaxis.set_major_formatter(lambda value, _: shown(value, v.unit))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title(f"{v.label}, last {len(points)} complete {v.grain}s", fontsize=9, loc="left")
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


# ---------------------------------------------------------------- the message

def message_id(d: Digest, sender: str) -> str:
    """The same id for the same person and day, so a mail client folds a copy into the original."""
    who = hashlib.sha256(d.person.encode()).hexdigest()[:16]
    return f"<digest.{d.day.isoformat()}.{who}@{sender.rpartition('@')[2] or 'accord.invalid'}>"


def message(d: Digest, sender: str, links: Links = Links(), now: dt.datetime | None = None) -> EmailMessage:
    """The whole email: multipart/alternative of text and multipart/related (HTML + PNG charts)."""
    from email.utils import make_msgid
    msg = EmailMessage()
    msg["Subject"] = subject(d)
    msg["From"] = sender
    msg["To"] = d.person
    msg["Date"] = format_datetime(now or dt.datetime.now(dt.timezone.utc))
    msg["Message-ID"] = message_id(d, sender)
    msg["Auto-Submitted"] = "auto-generated"
    if links.unsubscribe:
        msg["List-Unsubscribe"] = f"<{links.unsubscribe}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    # quoted-printable keeps every line under SMTP's 998 characters, whatever the HTML's lines are
    msg.set_content(text(d, links), cte="quoted-printable")
    pngs = {}
    for card in d.numbers[:CHARTS]:
        png = chart_png(card)
        if png is not None:
            pngs[card.view.name] = (make_msgid(domain="accord.invalid")[1:-1], png)
    msg.add_alternative(html(d, links, {name: cid for name, (cid, _) in pngs.items()}), subtype="html",
                        cte="quoted-printable")
    part = msg.get_payload()[1]
    for name, (cid, png) in pngs.items():
        part.add_related(png, maintype="image", subtype="png", cid=f"<{cid}>", filename=f"{name}.png")
    return msg


def standalone_html(msg: EmailMessage) -> str:
    """The HTML part with its charts inlined as data: URLs, to open in a browser (`--format html`)."""
    import base64
    body = msg.get_body(preferencelist=("html",))
    page = body.get_content()
    for part in msg.walk():
        cid = part.get("Content-ID")
        if cid and part.get_content_maintype() == "image":
            data = base64.b64encode(part.get_content()).decode()
            page = page.replace(f"cid:{cid.strip('<>')}", f"data:{part.get_content_type()};base64,{data}")
    return page
