"""English as people write it: "1 row", "2 rows", "sales' rule", "Ana's rule".

Every count and possessive accord writes into a sentence goes through these, so no page or line says
"1 findings" or "sales's".
"""
from __future__ import annotations

_IRREGULAR = {"person": "people", "is": "are", "was": "were", "has": "have", "this": "these"}


def plural_of(word: str) -> str:
    """The plural of one English noun (a last word of several: "open case" → "open cases")."""
    head, _, last = word.rpartition(" ")
    lower = last.lower()
    if lower in _IRREGULAR:
        out = _IRREGULAR[lower]
    elif lower.endswith("y") and lower[-2:-1] not in tuple("aeiou"):
        out = last[:-1] + "ies"
    elif lower.endswith(("s", "x", "z", "ch", "sh")):
        out = last + "es"
    else:
        out = last + "s"
    return f"{head} {out}" if head else out


def plural(n: float, word: str, many: str | None = None) -> str:
    """'1 row', '2 rows', '1,609 rows' (`many` for an irregular plural)."""
    count = f"{n:,}" if isinstance(n, int) else f"{n:,.0f}" if float(n).is_integer() else f"{n:,}"
    return f"{count} {word if n == 1 else (many or plural_of(word))}"


def possessive(name: str) -> str:
    """"sales'" for a name ending in s, "Ana's" otherwise."""
    name = str(name)
    return f"{name}'" if name.endswith(("s", "S")) else f"{name}'s"
