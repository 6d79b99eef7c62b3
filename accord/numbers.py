"""Numbers as people write them: no binary-float noise in JSON and CSV.

A sum of decimals read as doubles is off in its last bits (0.1 + 0.2 = 0.30000000000000004). A double holds
15 significant decimal digits exactly, so every float written is rounded to 15 significant digits: the
noise below them goes, every digit the data can carry stays (115318.01, 0.3). Integers and text pass as
they are.
"""
from __future__ import annotations

import math

SIGNIFICANT = 15


def plain(v: float) -> float:
    """A float rounded to 15 significant digits (inf and nan as they are)."""
    if not math.isfinite(v) or v == 0:
        return v
    return float(f"{v:.{SIGNIFICANT}g}")


def plain_data(obj):
    """The same data with every float in it plain (dicts, lists and tuples walked; tuples become lists)."""
    if type(obj) is float:
        return plain(obj)
    if isinstance(obj, dict):
        return {k: plain_data(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain_data(v) for v in obj]
    return obj
