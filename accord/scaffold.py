"""`accord init`: a starting project for one's own data, never overwriting anything."""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from accord.errors import Problem, UserError
from accord.project.atomic import ABSENT, make_folder, write_file

FILES = {
    "accord.yml": "accord.yml",
    "metrics/example.yml": "example.yml",
    "teams.yml": "teams.yml",
    "data/orders.csv": "orders.csv",
}
GITIGNORE = "gitignore"      # written as .gitignore where there is none yet; one already there is kept


def scaffold(directory: Path, name: str | None = None) -> list[str]:
    """The starting files, and a .gitignore (accord's store, Python's caches) unless the folder has one."""
    existing = [rel for rel in FILES if (directory / rel).exists()]
    if existing:
        raise UserError([Problem(str(directory / rel), 0, 0, "already exists. accord init never overwrites: "
                                 "choose an empty folder or move the file away") for rel in existing])
    name = name or (directory.resolve().name or "metrics").replace(" ", "-").lower()
    for rel, template in FILES.items():
        text = resources.files("accord.scaffold_files").joinpath(template).read_text(encoding="utf-8")
        target = directory / rel
        make_folder(target.parent)
        write_file(target, text.replace("{{project}}", name), expected_hash=ABSENT)
    written = list(FILES)
    if not (directory / ".gitignore").exists():
        text = resources.files("accord.scaffold_files").joinpath(GITIGNORE).read_text(encoding="utf-8")
        write_file(directory / ".gitignore", text, expected_hash=ABSENT)
        written.append(".gitignore")
    return written
