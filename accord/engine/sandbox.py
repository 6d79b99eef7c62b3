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
        """(folders, files) a query may read: every entry of each data folder except hidden ones, and
        symlinks only where they lead inside a data folder. Listing the entries rather than the folder itself
        keeps `.git/` and `.accord/` (the store) out of reach of a view stored in an engine database."""
        folders = [Path(f).resolve() for f in self.data_folders]
        dirs: list[str] = []
        files: list[str] = []
        for folder in folders:
            try:
                entries = sorted(folder.iterdir())
            except OSError:
                continue
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                try:
                    target = entry.resolve()
                    is_dir, is_file = target.is_dir(), target.is_file()
                except (OSError, RuntimeError):
                    continue
                if not any(_inside_visible(target, f) for f in folders):
                    continue
                if is_dir:
                    dirs.append(str(target) + os.sep)
                elif is_file:
                    files.append(str(target))
        return dirs, files

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
