"""Write small projects for tests: YAML text and data files into a folder."""
from __future__ import annotations

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
