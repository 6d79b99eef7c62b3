"""The demo company, Northwind Cloud: an ordinary accord project with two years of generated data and
every story accord answers planted in it (its README says where)."""
from __future__ import annotations

from pathlib import Path

from accord.demo.northwind import generate
from accord.demo.tables import Table
from accord.project.atomic import make_folder, write_file

__all__ = ["write_demo"]

DEFINITIONS = Path(__file__).parent / "project"     # accord.yml, the YAML definitions, README.md, dbt/


def write_demo(target: Path) -> Path:
    """Write the demo project (definitions, Parquet data, README) into `target` and return it.

    Deterministic: the same code writes the same bytes. Files of an earlier demo are overwritten.
    """
    target = Path(target)
    make_folder(target)
    tables = generate()
    for table in tables:
        table.write(target)
    for src in sorted(DEFINITIONS.rglob("*")):
        if not src.is_file() or src.suffix not in (".yml", ".md", ".sql"):
            continue
        dest = target / src.relative_to(DEFINITIONS)
        make_folder(dest.parent)
        text = src.read_text(encoding="utf-8")
        if src.name == "README.md":
            text = text.replace("<!-- data files -->", _files_table(tables))
        write_file(dest, text)
    return target


def _files_table(tables: list[Table]) -> str:
    """The README's table of data files and their row counts."""
    width = max(len(f"`{t.path}`") for t in tables)
    rows = [f"| {'file'.ljust(width)} | {'rows':>9} |", f"|{'-' * (width + 2)}|{'-' * 10}:|"]
    rows += [f"| {f'`{t.path}`'.ljust(width)} | {len(t):>9,} |" for t in tables]
    rows.append(f"| {'total'.ljust(width)} | {sum(len(t) for t in tables):>9,} |")
    return "\n".join(rows)
