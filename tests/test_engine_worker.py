"""The engine in a worker process: the same answers as in-process, the same sandbox, and an environment
without the parent's secrets."""
from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import pytest

from accord.engine import Sandbox
from accord.engine.duckdb import EngineQueryError
from accord.engine.worker import WorkerEngine
from accord.errors import UserError

SECRETS = {"ACCORD_STORE": "postgresql://accord:hunter2@db/accord", "ACCORD_SMTP_PASSWORD": "smtp-secret-42",
           "ACCORD_SECRET_KEY": "signing-key-0xdead"}


@pytest.fixture
def data(tmp_path) -> Path:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "orders.csv").write_text("id,amount\n1,10\n2,32\n3,0\n")
    (tmp_path / "secret.csv").write_text("x\nsecret\n")
    return tmp_path / "data"


def test_the_worker_answers_as_the_engine_does_and_keeps_the_sandbox(data):
    with WorkerEngine(None, "UTC", Sandbox(data_folders=(str(data),))) as engine:
        rows = engine.records(f"select id, amount from read_csv('{data}/orders.csv') order by id")
        assert rows == [{"id": 1, "amount": 10}, {"id": 2, "amount": 32}, {"id": 3, "amount": 0}]
        table = engine.query(f"select sum(amount) as total from read_csv('{data}/orders.csv')")
        assert table.column("total").to_pylist() == [42]
        with pytest.raises(EngineQueryError, match="outside the data folders"):
            engine.records(f"select * from read_csv('{data.parent}/secret.csv')")
        with pytest.raises(EngineQueryError, match="locked"):
            engine.records("SET enable_external_access = true")
        with pytest.raises(EngineQueryError, match="nope"):
            engine.records("select nope from range(1)")


def test_the_workers_environment_holds_none_of_the_parents_secrets(data, monkeypatch):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    with WorkerEngine(None, "UTC", Sandbox(data_folders=(str(data),))) as engine:
        environ = Path(f"/proc/{engine.pid}/environ").read_bytes().decode(errors="replace")
        assert engine.records("select 1 as x") == [{"x": 1}]
    names = {entry.split("=", 1)[0] for entry in environ.split("\0") if entry}
    assert names and not names & set(SECRETS)
    assert not any(value in environ for value in SECRETS.values())
    assert names <= {"PATH", "PYTHONPATH", "VIRTUAL_ENV", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR",
                     "SYSTEMROOT", "LC_CTYPE"}


def test_a_query_past_the_timeout_in_the_worker_is_one_line_and_the_worker_ends_on_close(data):
    engine = WorkerEngine(None, "UTC", Sandbox(timeout=dt.timedelta(seconds=1), threads=1))
    start = time.monotonic()
    with pytest.raises(UserError) as e:
        engine.records("select count(*) from range(1000000000000)")
    assert time.monotonic() - start < 30
    assert e.value.lines()[0].startswith("accord.yml: a query ran longer than engine.timeout (1s)")
    pid = engine.pid
    engine.close()
    assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()


def test_engines_open_in_workers_once_asked(tmp_path):
    from accord.compute.connect import project_engine, run_engines_in_workers
    from accord.project.loader import load_project
    (tmp_path / "accord.yml").write_text("project: p\n")
    project = load_project(tmp_path)
    run_engines_in_workers()
    try:
        with project_engine(project) as engine:
            assert isinstance(engine, WorkerEngine)
            assert engine.pid != os.getpid()
    finally:
        run_engines_in_workers(False)
    with project_engine(project) as engine:
        assert not isinstance(engine, WorkerEngine)
