"""Committing the files a person changed, with that person as the author, when the project is in git.

Hooks never run (`core.hooksPath` points nowhere and `--no-verify`): a write from the web must not execute
code from the repository. `mode` is `commit` (onto the current branch), `branch` (a new branch per change,
the working tree and the current branch untouched, to open as a pull request) or `off`.
"""
from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

from accord.errors import UserError


def _git(root: Path, *args: str, env: dict | None = None) -> str:
    run = subprocess.run(["git", "-c", "core.hooksPath=/dev/null", "-C", str(root), *args], capture_output=True,
                         text=True, timeout=60, env={**os.environ, **(env or {})})
    if run.returncode != 0:
        raise UserError(f"git {args[0]} failed: {run.stderr.strip().splitlines()[-1] if run.stderr.strip() else ''}."
                        " the change is written but not committed; commit it by hand")
    return run.stdout.strip()


def repository(root: Path) -> Path | None:
    """The git work tree holding `root`, or None."""
    try:
        run = subprocess.run(["git", "-C", str(root), "rev-parse", "--show-toplevel"], capture_output=True, text=True,
                             timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(run.stdout.strip()) if run.returncode == 0 else None


def _author_env(email: str) -> dict:
    name = email.split("@")[0].replace(".", " ").title() or email
    return {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email}


def commit(root: Path, paths: list[Path], author: str, message: str, mode: str = "commit") -> str | None:
    """Commit `paths` (and only them) as `author`; the commit's id, or None when not in git or mode is off."""
    top = repository(root) if mode != "off" else None
    if top is None:
        return None
    rel = [Path(p).resolve().relative_to(top.resolve()).as_posix() for p in paths]
    env = _author_env(author)
    if mode == "branch":
        return _commit_on_branch(top, rel, message, env)
    _git(top, "add", "--", *rel)
    if not _git(top, "status", "--porcelain", "--", *rel):
        return None            # nothing changed
    _git(top, "commit", "--no-verify", "--only", "-m", message, "--", *rel, env=env)
    return _git(top, "rev-parse", "HEAD")


def _commit_on_branch(top: Path, rel: list[str], message: str, env: dict) -> str:
    """A commit of the files as they are now on top of HEAD, on a new branch `accord/<words>-<n>`; nothing
    else moves (a temporary index, plumbing only)."""
    base = _git(top, "rev-parse", "HEAD")
    with tempfile.TemporaryDirectory() as tmp:
        index = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        _git(top, "read-tree", base, env=index)
        _git(top, "update-index", "--add", "--remove", "--", *rel, env=index)
        tree = _git(top, "write-tree", env=index)
    sha = _git(top, "commit-tree", tree, "-p", base, "-m", message, env=env)
    words = re.sub(r"[^a-z0-9]+", "-", message.lower()).strip("-")[:40] or "change"
    existing = set(_git(top, "for-each-ref", "--format=%(refname:short)", "refs/heads/accord/").splitlines())
    n = 1
    while f"accord/{words}-{n}" in existing:
        n += 1
    _git(top, "update-ref", f"refs/heads/accord/{words}-{n}", sha)
    return sha
