"""Contact arbiter benchmark: claims per second from a load generator in a second process, on loopback.

* the store holds 1M customers with a touch in the cap's window (claims made before the run), so the
  indexes are those of a full window;
* `accord arbiter --no-history` serves it (SQLite, WAL, synchronous=NORMAL), with 1 and with 2 worker processes;
* wrk (Debian's, with a Lua script) sends claims for 100k customers, each with its own idempotency key, over 32
  connections for 20 s; goal ≥ 3,000 claims/s with p99 < 20 ms;
* the server's memory (resident set of all its processes) after the run; goal < 500 MiB;
* where the time goes: the server's own time to decide and record a claim (its /-/metrics histogram) against
  the time per request the throughput implies.

Without wrk (apt-get install wrk), a Python asyncio/httpx generator in a second process stands in.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

CUSTOMERS_IN_WINDOW = 1_000_000
CLAIMED = 100_000
SECONDS = 20
CONNECTIONS = 32
POLICY = """
sources:
  - {name: emails, path: emails.csv, key: id, time: sent_at}
  - {name: cases, path: cases.csv, key: id, time: opened_at, owner: lead@bench.example}
teams:
  - {name: marketing, lead: lead@bench.example}
  - {name: sales, lead: sales@bench.example}
contact_policy:
  customer: customer_id
  touches:
    - {source: emails, team: marketing, time: sent_at}
    - {source: emails, team: sales, time: sent_at}
  cases: {source: cases, opened: opened_at, resolved: resolved_at}
  rules:
    - {name: at most 3 touches in 48 hours, max_touches: 3, within: 48h}
    - {name: no promotion during an open case, block_teams: [marketing], while: open_case}
    - {name: quiet nights, quiet: {from: "23:59", to: "00:00"}, teams: [sales]}
"""
LUA = """
local counter = 0
local threads = {}
function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  math.randomseed(os.time() + id * 7919)
end
request = function()
  counter = counter + 1
  local c = math.random(1, %(customers)d)
  local team = (counter %% 2 == 0) and "marketing" or "sales"
  local body = string.format('{"customer":"C%%07d","team":"%%s","channel":"email","idempotency_key":"w%%d-%%d-%%d"}',
                             c, team, id, counter, os.time())
  return wrk.format("POST", "/api/v1/touches/claim", {["Content-Type"] = "application/json",
                    ["Authorization"] = "Bearer %(token)s"}, body)
end
"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _project(folder: Path, log) -> tuple[Path, str]:
    """The project, its store with 1M customers in the window, and a token."""
    root = folder / "arbiter"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    (root / "accord.yml").write_text("project: arbiter-bench\nsettings: {timezone: UTC}\n")
    (root / "policy.yml").write_text(POLICY)
    (root / "emails.csv").write_text("id,customer_id,sent_at\n1,C0000001,2020-01-01 10:00:00\n")
    (root / "cases.csv").write_text("id,customer_id,opened_at,resolved_at\n1,C0000002,2020-01-01 10:00:00,\n")
    env = {k: v for k, v in os.environ.items() if k != "ACCORD_STORE"}
    accord = str(Path(sys.executable).parent / "accord")
    token = subprocess.run([accord, "tokens", "add", "bench", "--team", "marketing", "--team", "sales",
                            "--scope", "claim", "--scope", "monitor", "--project", str(root)],
                           capture_output=True, text=True, env=env, check=True).stdout.strip()
    started = time.perf_counter()
    db = sqlite3.connect(root / ".accord" / "accord.db")
    now_us = int((time.time()) * 1_000_000)
    rows = ((f"C{i:07d}", "marketing", "email", None, now_us - 3_600_000_000 - i, "2026-01-01T00:00:00+00:00", 1,
             "allow", None, None, "claim", "preload", f"p{i}", "", "{}", "2026-01-01T00:00:00+00:00")
            for i in range(1, CUSTOMERS_IN_WINDOW + 1))
    db.executemany("INSERT INTO arbiter_touches (customer, team, channel, kind, at_us, at, sent, decision, rule, "
                   "would_hold, origin, token, idempotency_key, fingerprint, answer, decided_at) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.commit()
    db.close()
    log(f"  store: {CUSTOMERS_IN_WINDOW:,} customers with a touch in the window, written in "
        f"{time.perf_counter() - started:.0f} s ({(root / '.accord' / 'accord.db').stat().st_size / 2**20:.0f} MiB)")
    return root, token


def _serve(root: Path, port: int, workers: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "ACCORD_STORE"}
    accord = str(Path(sys.executable).parent / "accord")
    server = subprocess.Popen([accord, "arbiter", "--no-history", "--project", str(root), "--port", str(port),
                               "--workers", str(workers)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    import httpx
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/-/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("the arbiter did not start")


def _family(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            todo += [int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split()]
        except OSError:
            continue
    return out


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its descendants (those alive now)."""
    total = 0
    for p in _family(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            continue
    return total / os.sysconf("SC_CLK_TCK")


def _rss_mib(pid: int) -> float:
    """Resident memory of a process and all its descendants."""
    total = 0
    pids = [pid]
    while pids:
        p = pids.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
            pids += [int(c) for c in children]
        except OSError:
            continue
    return total / 1024


def _wrk(url: str, token: str, folder: Path) -> dict:
    import resource
    script = folder / "claim.lua"
    script.write_text(LUA % {"customers": CLAIMED, "token": token})
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(["wrk", "-t", "1", "-c", str(CONNECTIONS), "-d", f"{SECONDS}s", "--latency",
                          "-s", str(script), url], capture_output=True, text=True, check=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    generator_cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def ms(label: str) -> float:
        m = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)\b", out)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rate": rate, "p50": ms("50"), "p99": ms("99"), "errors": int(errors.group(1)) if errors else 0,
            "raw": out, "generator_cpu": generator_cpu}


def _python_load(url: str, token: str) -> dict:
    """The stand-in generator: asyncio + httpx in a second process."""
    code = f"""
import asyncio, random, time, json, httpx
async def main():
    lat, errors, n = [], 0, 0
    end = time.perf_counter() + {SECONDS}
    async with httpx.AsyncClient(base_url={url!r}, headers={{"Authorization": "Bearer {token}"}},
                                 limits=httpx.Limits(max_connections={CONNECTIONS})) as c:
        async def worker(w):
            nonlocal errors, n
            i = 0
            while time.perf_counter() < end:
                i += 1
                body = {{"customer": f"C{{random.randint(1, {CLAIMED}):07d}}", "team": "marketing",
                         "channel": "email", "idempotency_key": f"py{{w}}-{{i}}-{{time.time()}}"}}
                t = time.perf_counter()
                r = await c.post("/api/v1/touches/claim", json=body)
                lat.append(time.perf_counter() - t)
                errors += r.status_code != 200
                n += 1
        await asyncio.gather(*(worker(w) for w in range({CONNECTIONS})))
    lat.sort()
    print(json.dumps({{"rate": n / {SECONDS}, "p50": lat[len(lat) // 2] * 1000,
                      "p99": lat[int(len(lat) * 0.99)] * 1000, "errors": errors}}))
asyncio.run(main())
"""
    import json
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def _claim_seconds(url: str, token: str) -> tuple[float, int]:
    import httpx
    text = httpx.get(url + "/-/metrics", headers={"Authorization": f"Bearer {token}"}).text
    total = float(re.search(r"accord_arbiter_claim_seconds_sum ([\d.]+)", text).group(1))
    count = int(re.search(r"accord_arbiter_claim_seconds_count (\d+)", text).group(1))
    return total, count


def run(folder: Path, runs: int = 1, log=print) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    log(f"arbiter: claims from a second process on loopback, {CLAIMED:,} customers claimed, "
        f"{CUSTOMERS_IN_WINDOW:,} in the window, {CONNECTIONS} connections, {SECONDS} s per run")
    load = os.getloadavg()
    log(f"  machine: {os.cpu_count()} cores, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} before the run")
    root, token = _project(folder, log)
    generator = "wrk" if shutil.which("wrk") else "python"
    for workers in (1, 2):
        port = _port()
        server = _serve(root, port, workers)
        url = f"http://127.0.0.1:{port}"
        cpu_before = _cpu_seconds(server.pid)
        try:
            result = _wrk(url + "/api/v1/touches/claim", token, folder) if generator == "wrk" else \
                _python_load(url, token)
            memory = _rss_mib(server.pid)
            server_cpu = _cpu_seconds(server.pid) - cpu_before
            spent, count = _claim_seconds(url, token) if workers == 1 else (0.0, 0)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(30)
        verdict = "meets" if result["rate"] >= 3000 and result["p99"] < 20 else "misses"
        log(f"  {workers} worker{'s' if workers > 1 else ''} ({generator}): {result['rate']:,.0f} claims/s, "
            f"p50 {result['p50']:.1f} ms, p99 {result['p99']:.1f} ms, {result['errors']} errors; "
            f"memory {memory:.0f} MiB ({verdict} ≥3,000/s with p99 < 20 ms; memory goal < 500 MiB)")
        claims = result["rate"] * SECONDS
        server_ms = server_cpu / claims * 1000
        generator_ms = result.get("generator_cpu", 0) / claims * 1000
        log(f"    CPU per claim: server {server_ms:.3f} ms, load generator {generator_ms:.3f} ms; on 2 idle cores "
            f"that is at most {2000 / (server_ms + generator_ms):,.0f} claims/s with both busy, "
            f"{1000 / server_ms:,.0f}/s per server core")
        if count:
            log(f"    where the time goes: deciding and recording (rules + one SQLite transaction, wall clock) "
                f"{spent / count * 1000:.2f} ms per claim; the rest of the server's CPU is HTTP parsing "
                f"(uvicorn, httptools), the token and body checks and JSON")
    load = os.getloadavg()
    log(f"  load average after: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
