"""DuckDB, the embedded default, in a sandbox: user data is opened read-only, and a query reads only files in
the data folders — no other file, no extension, no network, no setting changed.

Before any SQL of the user's runs, the session is set: external access off (only the data folders are
readable), extensions never installed or loaded, the data folders as the only allowed directories, a private
temporary folder for spilling (outside the project), memory and thread limits, and the configuration locked,
so nothing a query says can undo it. A query running past the timeout is interrupted.
"""
from __future__ import annotations

import re
import shutil
import tempfile
import threading
import time
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
from sqlglot import exp

from accord.engine.base import EngineQueryError
from accord.engine.sandbox import Sandbox
from accord.errors import UserError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["DuckDBEngine", "EngineQueryError"]


class DuckDBEngine:
    dialect = "duckdb"

    def __init__(self, database: str | None = None, timezone: str = "UTC", sandbox: Sandbox | None = None):
        sandbox = sandbox or Sandbox()
        self._timeout = sandbox.timeout
        self._abandoned = False   # a query was asked to stop (Ctrl-C, the timeout): it may still be running
        self._temp = tempfile.mkdtemp(prefix="accord-duckdb-")
        self._cleanup = weakref.finalize(self, shutil.rmtree, self._temp, True)
        config: dict[str, Any] = {
            "autoinstall_known_extensions": False, "autoload_known_extensions": False,
            "python_enable_replacements": False,  # never scan the calling Python code's variables as tables
            "temp_directory": self._temp,  # spilling never writes into the user's folder
            "preserve_insertion_order": False,  # every result accord reads is grouped or ordered explicitly
        }
        if sandbox.memory_amount():
            config["memory_limit"] = sandbox.memory_amount()
        if sandbox.threads:
            config["threads"] = sandbox.threads
        try:
            self._con = duckdb.connect(database or ":memory:", read_only=bool(database), config=config)
        except duckdb.Error as e:
            self._cleanup()
            raise UserError(f"accord.yml: cannot open DuckDB database '{database}': {str(e).splitlines()[0]}. "
                            "check engine.path")
        directories, files = sandbox.readable()
        for statement in (f"SET TimeZone = {_literal(timezone)}", "SET enable_progress_bar = false",
                          f"SET allowed_directories = {_list(directories)}", f"SET allowed_paths = {_list(files)}",
                          "SET enable_external_access = false", "SET lock_configuration = true"):
            self._con.execute(statement)

    def query(self, ast: exp.Expression | str) -> pa.Table:
        return self._run(ast, lambda rel: rel.to_arrow_table())

    def records(self, ast: exp.Expression | str) -> list[dict[str, Any]]:
        """The result as one dict per row. For small results: no Arrow is loaded (a command that needs only
        these starts faster)."""
        def rows(rel) -> list[dict[str, Any]]:
            names = [c[0] for c in rel.description]
            return [dict(zip(names, row)) for row in rel.fetchall()]
        return self._run(ast, rows)

    def describe(self, relation: exp.Expression) -> dict[str, str]:
        """Column name -> DuckDB type of a FROM-able relation."""
        rows = self.records(exp.Describe(this=exp.select("*").from_(relation)))
        return {r["column_name"]: r["column_type"] for r in rows}

    def sample(self, relation: exp.Expression, rows: int) -> exp.Expression:
        """The first `rows` rows: DuckDB reads no further than it needs."""
        head = exp.select("*").from_(relation).limit(rows)
        return exp.Subquery(this=head, alias=exp.TableAlias(this=exp.to_identifier("__sample")))

    def sql(self, ast: exp.Expression) -> str:
        return ast.sql(dialect=self.dialect)

    def _run(self, ast: exp.Expression | str, fetch):
        """`fetch` applied to the query's relation; the engine's refusal as EngineQueryError (one line); a query
        past the timeout interrupted, as a UserError.

        The query runs in a thread of its own while this one waits for it: Ctrl-C (KeyboardInterrupt) and the
        timeout then end the wait at once, whether or not DuckDB has stopped yet (some operators finish their
        work before they look for an interrupt, which took minutes on a large cross join).
        """
        sql = ast if isinstance(ast, str) else exact_sums(ast).sql(dialect=self.dialect)
        outcome: dict[str, Any] = {}

        def work() -> None:
            try:
                outcome["value"] = fetch(self._con.sql(sql))
            except BaseException as e:  # noqa: BLE001 - handed to the waiting thread, which raises it
                outcome["error"] = e

        worker = threading.Thread(target=work, name="accord-query", daemon=True)
        worker.start()
        deadline = time.monotonic() + self._timeout.total_seconds()
        try:
            while worker.is_alive() and time.monotonic() < deadline:
                worker.join(min(0.25, max(deadline - time.monotonic(), 0.0)))
        except KeyboardInterrupt:
            self._abandon(worker)
            raise
        if worker.is_alive():
            self._abandon(worker)
            raise UserError(f"accord.yml: a query ran longer than engine.timeout ({_duration(self._timeout)}) "
                            "and was stopped. raise engine.timeout, or compute fewer metrics or periods")
        error = outcome.get("error")
        if error is None:
            return outcome["value"]
        if isinstance(error, duckdb.Error):
            raise EngineQueryError(_refusal(error)) from error
        raise error

    def _abandon(self, worker: threading.Thread) -> None:
        """Ask DuckDB to stop the query and give it a moment; one that runs on keeps the connection busy."""
        self._con.interrupt()
        worker.join(1.0)
        self._abandoned = True

    def close(self) -> None:
        try:
            self._con.close()
        except duckdb.Error:
            if not self._abandoned:
                raise
            # still busy with the query it was asked to stop: the process ends (or drops the engine) without it
        self._cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


_OUTSIDE = re.compile(r'Cannot access (?:file|directory) "(.*)" - file system operations are disabled')


def exact_sums(ast: exp.Expression) -> exp.Expression:
    """Every `sum(x)` as `fsum(CAST(x AS DOUBLE))`: DuckDB's compensated (Kahan) sum.

    A plain sum of doubles drifts in its last digits as rows add up (cents summed over a thousand rows came
    out as -38177.5899999993); the compensated sum stays within one rounding of the exact total, so a
    value written with 15 significant digits (accord/numbers.py) is the sum of the decimals. Integer and
    decimal sums stay exact up to 2**53; booleans count as 0 and 1 as in `sum`.
    """
    if not any(True for _ in ast.find_all(exp.Sum)):
        return ast

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Sum):
            return exp.Anonymous(this="fsum", expressions=[exp.Cast(this=node.this, to=exp.DataType.build("DOUBLE"))])
        return node
    return ast.transform(swap)


def _refusal(error: duckdb.Error) -> str:
    """The engine's refusal in one line; a read outside the data folders said in the user's words."""
    first = str(error).split("\n")[0]
    outside = _OUTSIDE.search(first) if isinstance(error, duckdb.PermissionException) else None
    if outside:
        return (f"it reads '{outside.group(1)}', outside the data folders (the project folder and "
                "settings.data_paths, never a hidden folder; list a folder there to read it)")
    if "not utf-8 encoded" in str(error):   # the next lines quote the file's text: never shown
        line = re.search(r"CSV Error on Line: (\d+)", first)
        return f"the file is not UTF-8 text{f' (line {line.group(1)})' if line else ''}. save it as UTF-8"
    return first


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _list(items: list[str]) -> str:
    return "[" + ", ".join(_literal(i) for i in items) + "]"


def _duration(d) -> str:
    seconds = int(d.total_seconds())
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds % size == 0 and seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
