"""The demo company, Northwind Cloud: an ordinary accord project with two years of generated data and
every story accord answers planted in it (see the README it writes)."""
from __future__ import annotations

from pathlib import Path

from accord.demo.northwind import generate
from accord.demo.tables import Table

__all__ = ["write_demo"]

DEFINITIONS = Path(__file__).parent / "project"


def write_demo(target: Path) -> Path:
    """Write the demo project (definitions, Parquet data, README) into `target`; return `target`.

    Deterministic: the same code writes the same bytes. Files of an earlier demo are overwritten.
    """
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    for src in sorted(DEFINITIONS.rglob("*")):
        if src.is_file() and src.suffix in (".yml", ".md"):
            dest = target / src.relative_to(DEFINITIONS)
            dest.parent.mkdir(parents=True, exist_ok=True)
            text = src.read_text(encoding="utf-8")
            if src.name == "README.md":
                continue
            dest.write_text(text, encoding="utf-8")
    tables = generate()
    for table in tables:
        table.write(target)
    readme = DEFINITIONS / "README.md"
    if readme.is_file():
        (target / "README.md").write_text(_readme(readme.read_text(encoding="utf-8"), tables), encoding="utf-8")
    return target


def _readme(template: str, tables: list[Table]) -> str:
    """The README with the table of data files and their row counts filled in."""
    width = max(len(t.path) for t in tables)
    rows = [f"| {'file'.ljust(width)} | {'rows':>9} |", f"|{'-' * (width + 2)}|{'-' * 10}:|"]
    rows += [f"| {t.path.ljust(width)} | {len(t):>9,} |" for t in tables]
    rows.append(f"| {'total'.ljust(width)} | {sum(len(t) for t in tables):>9,} |")
    return template.replace("<!-- data files -->", "\n".join(rows))
