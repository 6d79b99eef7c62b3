"""What an engine session may read and use: the data folders, memory, threads and a time limit per query."""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Sandbox:
    """What an engine session may read and use: files in the data folders only (never in a hidden folder
    such as .git or .accord), a share of memory, some threads, and a time limit per query."""

    data_folders: tuple[str, ...] = ()           # absolute folders; nothing else is readable
    memory_limit: str = "75%"                    # of the machine's memory, or an amount such as 4GB
    threads: int | None = None                   # None: the engine's default (every core)
    timeout: dt.timedelta = dt.timedelta(minutes=10)

    def readable(self) -> tuple[list[str], list[str]]:
        """(folders, files) a query may read: the data folders without their hidden parts, and symlinks only
        where they lead inside a data folder.

        A folder is allowed whole only when nothing inside it, at any depth, is hidden or a symlink; otherwise
        its visible entries are listed one by one (and so on down). The data folders themselves are always
        listed entry by entry. So `.git/`, `.accord/` (the store), `data/.secret/` and a symlink out of the
        project stay out of reach of a view stored in an engine database, which names files by itself."""
        folders = [Path(f).resolve() for f in self.data_folders]
        dirs: list[str] = []
        files: list[str] = []
        seen: set[Path] = set()
        budget = [_MAX_ENTRIES]
        for folder in folders:
            if folder in seen:
                continue
            seen.add(folder)
            _, sub_dirs, sub_files = _scan(folder, folders, seen, budget)
            dirs += sub_dirs
            files += sub_files
        return sorted(set(dirs)), sorted(set(files))

    def memory_amount(self) -> str | None:
        """The memory limit as an amount the engine takes (`75%` of this machine's memory in MiB); None when
        the machine's memory cannot be read (the engine's own default applies)."""
        text = self.memory_limit.strip()
        if not text.endswith("%"):
            return text
        try:
            total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            return None
        return f"{int(total * float(text[:-1]) / 100) // 2**20}MiB"


def _inside_visible(target: Path, folder: Path) -> bool:
    if target != folder and folder not in target.parents:
        return False
    return not any(part.startswith(".") for part in target.relative_to(folder).parts)


# A data folder holding more entries than this (a lake with millions of files) is listed down to where the
# count ran out; past it, a folder is allowed whole, unscanned.
_MAX_ENTRIES = 200_000


def _scan(folder: Path, folders: list[Path], seen: set[Path], budget: list[int]) -> tuple[bool, list[str], list[str]]:
    """(whether `folder` holds nothing hidden and no symlink at any depth, the folders and files to allow in
    its place when it does not). A clean folder is allowed whole by its caller."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return False, [], []
    budget[0] -= len(entries)
    clean = True
    dirs: list[str] = []
    files: list[str] = []
    for entry in entries:
        if entry.name.startswith("."):
            clean = False
            continue
        path = Path(entry.path)
        try:
            if entry.is_symlink():
                clean = False
                target = path.resolve()
                if not any(_inside_visible(target, f) for f in folders):
                    continue
                if target.is_file():
                    files.append(str(target))
                elif target.is_dir() and target not in seen:
                    seen.add(target)
                    _allow_dir(target, folders, seen, budget, dirs, files)
            elif entry.is_dir(follow_symlinks=False):
                if budget[0] <= 0:
                    dirs.append(str(path) + os.sep)
                    continue
                sub_clean, sub_dirs, sub_files = _scan(path, folders, seen, budget)
                if sub_clean:
                    dirs.append(str(path) + os.sep)
                else:
                    clean = False
                    dirs += sub_dirs
                    files += sub_files
            elif entry.is_file(follow_symlinks=False):
                files.append(str(path))
        except (OSError, RuntimeError):  # a symlink loop, an entry gone meanwhile
            clean = False
    return clean, dirs, files


def _allow_dir(folder: Path, folders: list[Path], seen: set[Path], budget: list[int], dirs: list[str],
               files: list[str]) -> None:
    clean, sub_dirs, sub_files = _scan(folder, folders, seen, budget)
    if clean:
        dirs.append(str(folder) + os.sep)
    else:
        dirs += sub_dirs
        files += sub_files
