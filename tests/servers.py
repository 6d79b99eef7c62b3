"""Real servers the engine tests start themselves: a throwaway PostgreSQL and a local Spark session.

A missing server is a skip with one line naming what is missing, unless ACCORD_REQUIRE (a comma list:
postgres, spark, ...) names it: then it is a failure.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

READER = "accord_reader"          # the SELECT-only role accord connects as


def required(name: str) -> bool:
    return name in {w.strip() for w in os.environ.get("ACCORD_REQUIRE", "").split(",")}


def missing(name: str, what: str):
    """Skip (or, when ACCORD_REQUIRE names `name`, fail) with one line saying what is missing."""
    if required(name):
        pytest.fail(f"ACCORD_REQUIRE names {name}, but {what}", pytrace=False)
    pytest.skip(f"{name}: {what}")


# ------------------------------------------------------------------ PostgreSQL

class Postgres:
    """A PostgreSQL cluster in a temporary folder, listening only on a unix socket there."""

    def __init__(self):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not bins and not shutil.which("initdb"):
            raise LookupError("no PostgreSQL server binaries (initdb, pg_ctl); install Debian's postgresql")
        self.bin = Path(bins[-1]).parent if bins else Path(shutil.which("initdb")).parent
        self.as_user: list[str] = []
        if os.geteuid() == 0:   # initdb refuses to run as root: run the server as the postgres system user
            runuser = shutil.which("runuser")
            if not runuser:
                raise LookupError("running as root without runuser to start PostgreSQL as user postgres")
            self.as_user = [runuser, "-u", "postgres", "--"]
        self.dir = Path(tempfile.mkdtemp(prefix="accord-pg-"))
        self.data = self.dir / "data"
        self.port = _free_port()
        if self.as_user:
            shutil.chown(self.dir, "postgres")
        self.dir.chmod(0o755)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses='' -c fsync=off -c shared_buffers=32MB"
        self._run("pg_ctl", "-D", str(self.data), "-o", opts, "-w", "-t", "60", "-l", str(self.dir / "log"), "start")

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run(self.as_user + [str(self.bin / tool), *args], capture_output=True, text=True,
                              cwd=self.dir)
        if done.returncode:
            raise RuntimeError(f"{tool} failed: {done.stderr.strip() or done.stdout.strip()}")

    def dsn(self, user: str = READER, dbname: str = "postgres") -> str:
        return f"host={self.dir} port={self.port} user={user} dbname={dbname}"

    def admin(self):
        import psycopg
        return psycopg.connect(self.dsn("postgres"), autocommit=True)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_postgres() -> Postgres:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        missing("postgres", "psycopg is not installed (pip install 'accord[postgres]')")
    try:
        server = Postgres()
    except (LookupError, RuntimeError, OSError) as e:
        missing("postgres", str(e))
    with server.admin() as con:
        con.execute(f"CREATE ROLE {READER} LOGIN")
        con.execute(f"REVOKE ALL ON SCHEMA public FROM PUBLIC")
        con.execute(f"GRANT USAGE ON SCHEMA public TO {READER}")
    return server


_PG_TYPES = [(pa.types.is_boolean, "boolean"), (pa.types.is_int8, "smallint"), (pa.types.is_int16, "smallint"),
             (pa.types.is_int32, "integer"), (pa.types.is_int64, "bigint"), (pa.types.is_float32, "real"),
             (pa.types.is_float64, "double precision"), (pa.types.is_date, "date"),
             (pa.types.is_string, "text"), (pa.types.is_large_string, "text")]


def pg_type(t: pa.DataType) -> str:
    if pa.types.is_timestamp(t):
        return "timestamptz" if t.tz else "timestamp"
    if pa.types.is_decimal(t):
        return f"numeric({t.precision},{t.scale})"
    for test, name in _PG_TYPES:
        if test(t):
            return name
    raise TypeError(f"no PostgreSQL type for {t}")


def load_postgres(server: Postgres, schema: str, tables: dict[str, Path | pa.Table]) -> None:
    """Each table (a Parquet file or an Arrow table) copied into `schema`, typed as Parquet types it,
    readable by the SELECT-only role."""
    with server.admin() as con:
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        con.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO {READER}')
        for name, data in tables.items():
            table = pq.read_table(data) if isinstance(data, Path) else data
            cols = ", ".join(f'"{f.name}" {pg_type(f.type)}' for f in table.schema)
            con.execute(f'CREATE TABLE "{schema}"."{name}" ({cols})')
            names = ", ".join(f'"{f.name}"' for f in table.schema)
            with con.cursor().copy(f'COPY "{schema}"."{name}" ({names}) FROM STDIN') as copy:
                for row in table.to_pylist():
                    copy.write_row([row[f.name] for f in table.schema])
            con.execute(f'GRANT SELECT ON "{schema}"."{name}" TO {READER}')
            con.execute(f'ANALYZE "{schema}"."{name}"')


# ------------------------------------------------------------------ Spark

def start_spark():
    """A small local Spark session (local[2], few shuffle partitions, no UI), shared by the tests of a run."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        missing("spark", "pyspark is not installed (pip install 'accord[spark]')")
    if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
        missing("spark", "no Java runtime (Java 17) to run Spark")
    dirs = [tempfile.mkdtemp(prefix="accord-spark-"), tempfile.mkdtemp(prefix="accord-spark-tables-")]
    try:
        spark = (SparkSession.builder.master("local[2]").appName("accord-tests")
                 .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
                 .config("spark.sql.shuffle.partitions", "2")
                 .config("spark.default.parallelism", "2").config("spark.driver.memory", "1g")
                 .config("spark.sql.adaptive.enabled", "true")
                 .config("spark.driver.extraJavaOptions", "-XX:+UseSerialGC")
                 .config("spark.local.dir", dirs[0]).config("spark.sql.warehouse.dir", dirs[1])
                 .getOrCreate())
    except Exception as e:  # noqa: BLE001 - the JVM failing to start: one line, skip or fail
        missing("spark", f"a local Spark session did not start: {str(e).splitlines()[0]}")
    spark.sparkContext.setLogLevel("ERROR")
    spark._accord_dirs = dirs       # removed when the session stops (conftest)
    return spark


class SparkConnect:
    """A Spark Connect server (local[2]) from pyspark's own scripts, on a free port, in the foreground of a
    process group of its own; its logs, warehouse and scratch space in a temporary folder."""

    def __init__(self):
        import signal  # noqa: F401 - used by stop
        import time

        import pyspark
        home = Path(pyspark.__file__).parent
        script = home / "sbin" / "start-connect-server.sh"
        if not script.is_file():
            raise LookupError("pyspark has no Spark Connect server script (sbin/start-connect-server.sh)")
        self.port = _free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="accord-spark-connect-"))
        env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOG_DIR": str(self.dir),
               "SPARK_PID_DIR": str(self.dir), "SPARK_LOCAL_DIRS": str(self.dir / "local")}
        self.log = self.dir / "server.log"
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                ["bash", str(script), "--wait", "--master", "local[2]", "--driver-memory", "1g",
                 "--conf", f"spark.connect.grpc.binding.port={self.port}", "--conf", "spark.ui.enabled=false",
                 "--conf", "spark.sql.shuffle.partitions=2", "--conf", f"spark.sql.warehouse.dir={self.dir / 'tables'}",
                 "--conf", "spark.driver.extraJavaOptions=-XX:+UseSerialGC"],
                env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            text = self.log.read_bytes()
            if b"Spark Connect server started" in text:
                return
            if self.proc.poll() is not None:
                last = text.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
                self.stop()
                raise RuntimeError(f"the Spark Connect server stopped: {last[0]}")
            time.sleep(0.5)
        self.stop()
        raise RuntimeError("the Spark Connect server did not start within 300 s")

    def url(self) -> str:
        return f"sc://localhost:{self.port}"

    def stop(self) -> None:
        import signal
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


def start_spark_connect() -> SparkConnect:
    try:
        import pyspark  # noqa: F401
        import grpc  # noqa: F401
    except ImportError:
        missing("spark", "pyspark with Spark Connect is not installed (pip install 'accord[spark]')")
    if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
        missing("spark", "no Java runtime (Java 17) to run Spark")
    try:
        return SparkConnect()
    except (LookupError, RuntimeError, OSError) as e:
        missing("spark", str(e))
