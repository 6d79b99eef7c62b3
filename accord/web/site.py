"""What the web app holds while it runs: the project (reloaded when a file changes), the store, and results
computed once per (project content, as-of), kept in memory and in the store, built in the background."""
from __future__ import annotations

import hashlib
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from accord import app
from accord.store import accounts, cache

_SKIP_DIRS = {"prework", "target", "dbt_packages", "node_modules", "__pycache__"}


def project_fingerprint(root: Path) -> str:
    """A hash of everything a result depends on: every YAML file's bytes and every other file's size and
    modification time (data files can be large), outside hidden folders and pre-work."""
    h = hashlib.sha256()
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS)
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = Path(folder) / name
            rel = path.relative_to(root).as_posix()
            try:
                if name.endswith((".yml", ".yaml")):
                    h.update(f"{rel}\0".encode() + path.read_bytes() + b"\0")
                else:
                    st = path.stat()
                    h.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
            except OSError:
                continue
    return h.hexdigest()[:32]


@dataclass(frozen=True)
class Overview:
    """The check and the report for one (project content, as-of)."""

    check: Any
    report: Any


class Site:
    def __init__(self, root: Path):
        self.root = root
        project = app.load(root)
        self.db = app.store(project)
        self.key = accounts.secret_key(self.db)
        base = project.config.serve.base_url or ""
        self.secure = base.startswith("https://")
        self._project = (project_fingerprint(root), project)
        self._refreshes = 0
        self._lock = threading.Lock()
        self._memory: dict[tuple, Any] = {}
        self._pending: dict[tuple, Future] = {}
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="accord-results")

    # ------------------------------------------------------------ the project
    def project(self):
        """The project as the files say now (loaded again only when a file changed), and the key its results are
        kept under: the files' hash; on an engine whose data changes without a file changing (anything but
        DuckDB), also the current `serve.cache_ttl` window; and the admins' refresh count."""
        fp = project_fingerprint(self.root)
        with self._lock:
            cached = self._project if self._project[0] == fp else None
        if cached is None:
            project = app.load(self.root)
            with self._lock:
                self._project = cached = (fp, project)
        project = cached[1]
        key = fp + f"-r{self._refreshes}"
        if project.config.engine.type != "duckdb":
            from accord.project.model import ttl_seconds
            key += f"-t{int(time.time()) // ttl_seconds(project.config.serve.cache_ttl)}"
        return key, project

    def refresh(self) -> None:
        """Compute every result again (an admin's action, for data that changed without a file changing)."""
        with self._lock:
            self._memory.clear()
            self._refreshes += 1
        cache.clear(self.db)

    # ------------------------------------------------------------ results
    def result(self, kind: str, build: Callable[[Any, Any], Any], *args, wait: bool = False):
        """The `kind` result for the project as it is now, or None while it is being built (unless `wait`).
        `build(project, today, *args)`; kept in memory and in the store."""
        fp, project = self.project()
        today = app.today(project)
        key = (kind, fp, today.isoformat(), args)
        with self._lock:
            if key in self._memory:
                return self._memory[key]
            future = self._pending.get(key)
            if future is None:
                future = self._pool.submit(self._build, key, kind, fp, today, project, build, args)
                self._pending[key] = future
        if wait:
            return future.result()
        try:
            return future.result(timeout=1.5)
        except TimeoutError:
            return None

    def _build(self, key, kind, fp, today, project, build, args):
        try:
            label = kind + "".join(f"\0{a}" for a in args)
            value = cache.cached(self.db, self.key, label, fp, today.isoformat(),
                                 lambda: build(project, today, *args))
            with self._lock:
                # keep the memory small: only the current content's results
                for k in [k for k in self._memory if k[1] != fp]:
                    del self._memory[k]
                self._memory[key] = value
            return value
        finally:
            with self._lock:
                self._pending.pop(key, None)

    def overview(self, wait: bool = False) -> Overview | None:
        return self.result("overview", _overview, wait=wait)

    def warm(self) -> None:
        try:
            self.overview(wait=True)
        except Exception:      # the first page shows the problem
            pass

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.db.close()


def _overview(project, today) -> Overview:
    checked = app.check(project, today)
    return Overview(checked, app.report(project, today, checked))
