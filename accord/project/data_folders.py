"""The data folders: where a project's data may be read from.

The project folder, plus each folder in `settings.data_paths` (absolute, or relative to the project folder:
that is how a team points at a shared lake folder on purpose). Never a hidden folder — `.accord/` (the
store), `.git/` and the like — and never elsewhere through `..`, an absolute path or a symlink.
"""
from __future__ import annotations

from pathlib import Path

WHAT_TO_DO = ("move the file into the project folder, or list its folder under settings.data_paths in "
              "accord.yml")


def data_folders(root: Path, data_paths: tuple[str, ...] | list[str] = ()) -> tuple[Path, ...]:
    """The project folder and the `data_paths`, resolved (symlinks followed)."""
    root = Path(root).resolve()
    out = [root]
    for p in data_paths:
        folder = (root / Path(p).expanduser()).resolve()
        if folder not in out:
            out.append(folder)
    return tuple(out)


def why_unreadable(path: Path, folders: tuple[Path, ...]) -> str | None:
    """Why a file may not be read as data ('outside' or 'hidden:<part>'), None when it may.

    `path` is resolved first: a symlink counts where it leads."""
    try:
        target = Path(path).resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return "outside"
    for folder in folders:
        if target == folder or folder in target.parents:
            hidden = [part for part in target.relative_to(folder).parts if part.startswith(".")]
            return f"hidden:{hidden[0]}" if hidden else None
    return "outside"


def refusal(what: str, shown: str, reason: str) -> str:
    """The problem's words for `why_unreadable`'s reason."""
    if reason.startswith("hidden:"):
        return (f"{what} '{shown}' is inside the hidden folder '{reason[7:]}'; hidden folders (.git, .accord) "
                "are never read as data. move the file out of it")
    return (f"{what} '{shown}' is outside the project's data folders (the project folder and "
            f"settings.data_paths). {WHAT_TO_DO}")
