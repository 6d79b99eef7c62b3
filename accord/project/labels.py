"""Labels as people say them: compared per word, lower case, no punctuation, no trailing plural 's'."""
from __future__ import annotations

import re

_PUNCTUATION = re.compile(r"[^\w\s]", re.UNICODE)


def _word(w: str) -> str:
    return w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w


def normalize_label(label: str, synonyms: dict[str, list[str]] | None = None) -> str:
    """'Qualified Leads' and 'qualified-lead' → 'qualified lead'; whole-label synonyms map to their key."""
    text = " ".join(_word(w) for w in _PUNCTUATION.sub(" ", label.lower()).split())
    for key, alternatives in (synonyms or {}).items():
        if text in {normalize_label(a) for a in alternatives}:
            return normalize_label(key)
    return text
