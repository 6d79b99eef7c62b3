"""DuckDB in a worker process whose environment holds no secrets.

Where accord runs queries for several people (the web app), the process that serves them knows the store's
URL, the SMTP password and the signing key. The engine then runs in a child process started with only the
variables a Python process needs (`KEPT`), in the same sandbox as in-process: even a hole in the SQL floor and
in DuckDB's sandbox together would find no secret to read. The interface is the engine's own (`query`,
`records`, `close`); requests and answers are pickled frames on the child's stdin and stdout.

Run as `python -m accord.engine.worker` by `WorkerEngine` only.
"""
from __future__ import annotations

import os
import pickle
import signal
import struct
import subprocess
import sys
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, BinaryIO

from sqlglot import exp

from accord.engine.sandbox import Sandbox
from accord.errors import InternalError, UserError

if TYPE_CHECKING:
    import pyarrow as pa

# What a Python process needs to start and find accord; nothing else of the parent's environment is passed.
KEPT = ("PATH", "PYTHONPATH", "VIRTUAL_ENV", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "SYSTEMROOT")


class WorkerEngine:
    dialect = "duckdb"

    def __init__(self, database: str | None = None, timezone: str = "UTC", sandbox: Sandbox | None = None):
        env = {k: os.environ[k] for k in KEPT if k in os.environ}
        self._proc = subprocess.Popen([sys.executable, "-m", "accord.engine.worker"], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, env=env)
        self.pid = self._proc.pid
        self._call("open", database, timezone, asdict(sandbox or Sandbox()))

    def query(self, ast: exp.Expression | str) -> pa.Table:
        return self._call("query", _sql(ast))

    def records(self, ast: exp.Expression | str) -> list[dict[str, Any]]:
        return self._call("records", _sql(ast))

    def describe(self, relation: exp.Expression) -> dict[str, str]:
        rows = self.records(exp.Describe(this=exp.select("*").from_(relation)))
        return {r["column_name"]: r["column_type"] for r in rows}

    def sample(self, relation: exp.Expression, rows: int) -> exp.Expression:
        head = exp.select("*").from_(relation).limit(rows)
        return exp.Subquery(this=head, alias=exp.TableAlias(this=exp.to_identifier("__sample")))

    def sql(self, ast: exp.Expression) -> str:
        return _sql(ast)

    def _call(self, *request: Any) -> Any:
        from accord.engine.duckdb import EngineQueryError
        try:
            _write(self._proc.stdin, request)
            kind, value = _read(self._proc.stdout)
        except (OSError, EOFError, pickle.UnpicklingError) as e:
            raise InternalError(f"the engine's worker process stopped ({e})") from None
        if kind == "ok":
            return value
        if kind == "user":
            raise UserError(value)
        if kind == "engine":
            raise EngineQueryError(value)
        raise InternalError(value)

    def close(self) -> None:
        if self._proc.poll() is None:
            try:
                self._proc.stdin.close()      # the worker closes its engine and leaves on end of input
                self._proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self._proc.kill()
                self._proc.wait()
        self._proc.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _sql(ast: exp.Expression | str) -> str:
    return ast if isinstance(ast, str) else ast.sql(dialect="duckdb")


def _write(stream: BinaryIO, obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(struct.pack("<Q", len(data)) + data)
    stream.flush()


def _read(stream: BinaryIO) -> Any:
    head = stream.read(8)
    if len(head) < 8:
        raise EOFError("no answer")
    (size,) = struct.unpack("<Q", head)
    return pickle.loads(stream.read(size))


def _serve(requests: BinaryIO, answers: BinaryIO) -> None:
    """The worker's loop: open the engine, then answer each request until the parent closes its end."""
    import datetime as dt

    from accord.engine.duckdb import DuckDBEngine, EngineQueryError
    engine = None
    while True:
        try:
            request = _read(requests)
        except EOFError:
            break
        verb, *args = request
        try:
            if verb == "open":
                database, timezone, limits = args
                limits["timeout"] = limits["timeout"] if isinstance(limits["timeout"], dt.timedelta) else \
                    dt.timedelta(seconds=float(limits["timeout"]))
                limits["data_folders"] = tuple(limits["data_folders"])
                engine = DuckDBEngine(database, timezone, Sandbox(**limits))
                answer = ("ok", None)
            else:
                answer = ("ok", getattr(engine, verb)(args[0]))
        except UserError as e:
            answer = ("user", e.problems)
        except EngineQueryError as e:
            answer = ("engine", str(e))
        except Exception as e:  # noqa: BLE001 - a bug: said to the parent, which raises it as one
            answer = ("internal", f"{type(e).__name__}: {e}")
        _write(answers, answer)
    if engine is not None:
        engine.close()


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it closes this worker
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout = sys.stderr                        # nothing printed may mix with the answers
    _serve(sys.stdin.buffer, answers)
