"""`accord init`: a starting project for one's own data, never overwriting anything."""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from accord.errors import Problem, UserError

FILES = {
    "accord.yml": "accord.yml",
    "metrics/example.yml": "example.yml",
    "teams.yml": "teams.yml",
    "data/orders.csv": "orders.csv",
}


def scaffold(directory: Path, name: str | None = None) -> list[str]:
    existing = [rel for rel in FILES if (directory / rel).exists()]
    if existing:
        raise UserError([Problem(str(directory / rel), 0, 0, "already exists. accord init never overwrites: "
                                 "choose an empty folder or move the file away") for rel in existing])
    name = name or (directory.resolve().name or "metrics").replace(" ", "-").lower()
    for rel, template in FILES.items():
        text = resources.files("accord.scaffold_files").joinpath(template).read_text(encoding="utf-8")
        target = directory / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text.replace("{{project}}", name), encoding="utf-8")
    return list(FILES)
