"""The project as it was at a git revision: its YAML read from git, its data read from today's folder."""
from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from accord.errors import Problem, UserError
from accord.project.model import Project


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as e:
        raise UserError(f"git could not be run ({e}). install git, or run accord inside a git repository")


def load_at_revision(project: Project, rev: str) -> Project:
    """Definitions at `rev`, with paths to data resolved in the current project folder."""
    from accord.project.loader import load_project
    root = project.root
    top = _git(root, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise UserError(f"{root} is not inside a git repository, so there is no revision '{rev}' to compare with. "
                        "commit the project to git first")
    if _git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").returncode != 0:
        raise UserError(f"'{rev}' is not a revision of this repository. give a commit, branch or tag "
                        "(git log --oneline lists them)")
    top_dir = Path(top.stdout.decode().strip()).resolve()
    prefix = root.resolve().relative_to(top_dir).as_posix()
    prefix = "" if prefix == "." else prefix + "/"
    listing = _git(top_dir, "ls-tree", "-r", "--name-only", rev, "--", prefix or ".")
    names = [n for n in listing.stdout.decode().splitlines() if n.endswith((".yml", ".yaml"))]
    if f"{prefix}accord.yml" not in names:
        raise UserError([Problem("accord.yml", 0, 0, f"did not exist at revision '{rev}'. compare with a later "
                                                     "revision")])
    with tempfile.TemporaryDirectory(prefix="accord-rev-") as tmp:
        for name in names:
            blob = _git(top_dir, "show", f"{rev}:{name}")
            target = Path(tmp) / name[len(prefix):]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob.stdout)
        try:
            old = load_project(tmp, data_root=root)
        except UserError as e:
            raise UserError([Problem(p.file, p.line, p.col, f"at revision {rev}: {p.message}") for p in e.problems])
    return old
