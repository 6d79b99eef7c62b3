"""Write small projects for tests: YAML text and data files into a folder."""
from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path


def write_project(root: Path, files: dict[str, str], config: str = "project: t\n") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "accord.yml").write_text(textwrap.dedent(config))
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under root with its bytes, to prove nothing was changed."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def ref_label(day: dt.date, grain: str, fiscal_year_start: int = 1) -> str:
    """The label of the period holding `day`, written from the rules in the design, not from accord."""
    if grain == "day":
        return day.isoformat()
    if grain == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if grain == "month":
        return f"{day.year}-{day.month:02d}"
    if fiscal_year_start == 1:
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}" if grain == "quarter" else str(day.year)
    # a fiscal year is named by the calendar year in which it ends
    fiscal_year = day.year + 1 if day.month >= fiscal_year_start else day.year
    if grain == "quarter":
        return f"FY{fiscal_year}-Q{(day.month - fiscal_year_start) % 12 // 3 + 1}"
    return f"FY{fiscal_year}"
