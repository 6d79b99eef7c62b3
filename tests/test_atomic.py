"""Writes of a user's file: whole or not at all, under a lock, never over someone else's change."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from factory import write_project
from ruamel.yaml import YAML

from accord.errors import UserError
from accord.project.atomic import (ABSENT, FileChangedError, content_hash, locked, make_folder, read_bytes,
                                   write_file)

ACCORD = [sys.executable, "-m", "accord.cli"]


def leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_a_new_file_is_written_whole_with_ordinary_permissions(tmp_path):
    path = write_file(tmp_path / "a.yml", "x: 1\n")
    assert path.read_bytes() == b"x: 1\n"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    assert leftovers(tmp_path) == []


def test_a_replaced_file_keeps_its_permissions_and_a_symlink_keeps_pointing(tmp_path):
    real = tmp_path / "real.yml"
    real.write_text("old\n")
    real.chmod(0o640)
    link = tmp_path / "link.yml"
    link.symlink_to(real)
    write_file(link, b"new\n")
    assert link.is_symlink() and real.read_text() == "new\n"
    assert stat.S_IMODE(real.stat().st_mode) == 0o640


def test_the_expected_hash_refuses_a_file_changed_since_it_was_read(tmp_path):
    path = tmp_path / "d.yml"
    path.write_text("read\n")
    seen = content_hash(read_bytes(path))
    assert seen == __import__("hashlib").sha256(b"read\n").hexdigest()
    path.write_text("someone else saved this\n")
    with pytest.raises(FileChangedError) as e:
        write_file(path, "mine\n", expected_hash=seen, name="decisions/d.yml")
    assert e.value.lines() == ["decisions/d.yml: the file changed while accord was writing it (someone else "
                               "saved it). nothing was written; run the command again"]
    assert path.read_text() == "someone else saved this\n"
    write_file(path, "mine\n", expected_hash=content_hash(b"someone else saved this\n"))
    assert path.read_text() == "mine\n"


def test_absent_means_the_file_must_not_exist_yet(tmp_path):
    path = tmp_path / "new.yml"
    write_file(path, "first\n", expected_hash=ABSENT)
    with pytest.raises(FileChangedError):
        write_file(path, "second\n", expected_hash=ABSENT)
    assert path.read_text() == "first\n"
    assert read_bytes(tmp_path / "nothing") is None and content_hash(None) == ABSENT


@pytest.mark.parametrize("case", ["read-only file", "folder", "missing folder", "file as folder"])
def test_a_write_that_cannot_happen_is_one_line_and_changes_nothing(tmp_path, case):
    path = tmp_path / "out.html"
    if case == "read-only file":
        path.write_text("keep\n")
        path.chmod(0o444)
        expected = f"{path}: the file is read-only. make it writable (chmod u+w {path}) or write elsewhere"
    elif case == "folder":
        path.mkdir()
        expected = f"{path} is a folder, not a file. name a file in it, such as {path / 'report.html'}"
    elif case == "missing folder":
        path = tmp_path / "nope" / "out.html"
        expected = f"{path}: the folder {tmp_path / 'nope'} does not exist. create it first or write elsewhere"
    else:
        (tmp_path / "afile").write_text("")
        path = tmp_path / "afile" / "out.html"
        expected = f"{path}: a part of the path {tmp_path / 'afile'} is a file, not a folder. fix the path"
    before = sorted(p.name for p in tmp_path.rglob("*"))
    with pytest.raises(UserError) as e:
        write_file(path, "new\n")
    assert len(e.value.lines()) == 1 and e.value.lines()[0].startswith(expected)
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
    if case == "read-only file":
        assert path.read_text() == "keep\n"


def test_make_folder_says_when_a_file_is_in_the_way(tmp_path):
    (tmp_path / "kit").write_text("")
    with pytest.raises(UserError) as e:
        make_folder(tmp_path / "kit", "kit")
    assert e.value.lines() == ["kit: is a file, not a folder. name a folder, or move the file"]


def test_threads_doing_read_modify_write_under_the_lock_lose_nothing(tmp_path):
    path = tmp_path / "counter"
    path.write_text("0")
    barrier = threading.Barrier(8)

    def add(_):
        barrier.wait()
        for _ in range(25):
            with locked(path):
                before = read_bytes(path)
                write_file(path, str(int(before) + 1), expected_hash=content_hash(before))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(add, range(8)))
    assert path.read_text() == str(8 * 25)
    assert leftovers(tmp_path) == []


def test_the_lock_is_exclusive_across_processes(tmp_path):
    """A second process cannot take the folder's lock while this one holds it (and gives up after its wait)."""
    path = tmp_path / "f.yml"
    code = ("import sys; from pathlib import Path; from accord.project.atomic import locked\n"
            "from accord.errors import UserError\n"
            "try:\n    with locked(Path(sys.argv[1]), timeout=0.3): print('got it')\n"
            "except UserError as e: print(e)\n")
    with locked(path):
        held = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True)
    free = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True)
    assert "another accord command has been writing in its folder" in held.stdout
    assert free.stdout.strip() == "got it"


DEFS = """
sources:
  - {name: crm, path: data/crm.csv, key: id, time: created_at}
metrics:
  - {name: pipeline, label: Pipeline, team: sales, level: company, owner: ana@x.example, source: crm,
     measure: sum(amount), decision: Forecast}
"""
DECISION = """# our decision, with a comment that stays
decisions:
  - label: Pipeline
    decided_on: 2026-07-01
    owner: ana@x.example
    canonical:
      - metric: pipeline
"""


@pytest.fixture
def decided(tmp_path):
    return write_project(tmp_path / "p", {"defs.yml": DEFS, "data/crm.csv": "id,amount,created_at\n1,5,2026-07-01\n",
                                          "decisions/pipeline.yml": DECISION},
                         "project: t\nsettings: {as_of: 2026-07-10}\n")


def decide(root, task, env=None):
    return subprocess.Popen(ACCORD + ["workshop", "decide", "Pipeline", "--project", str(root), "--no-input",
                                      "--follow-up", f"{task}|ana@x.example|2026-09-01"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def follow_ups(path) -> list[str]:
    doc = YAML(typ="safe").load(path.read_text())
    return [f["task"] for f in doc["decisions"][0].get("follow_ups", [])]


@pytest.mark.parametrize("runs", [pytest.param(20, marks=pytest.mark.slow), 3])
def test_parallel_decides_each_land_whole_or_say_the_file_changed(decided, runs):
    procs = {f"task {i}": decide(decided, f"task {i}") for i in range(runs)}
    results = {task: (p.wait(timeout=300), *p.communicate()) for task, p in procs.items()}
    path = decided / "decisions" / "pipeline.yml"
    kept = follow_ups(path)
    for task, (code, out, err) in results.items():
        assert code in (0, 2), err
        assert "Traceback" not in err
        if code == 0:
            assert kept.count(task) == 1
        else:
            assert task not in kept and len(err.strip().splitlines()) == 1
            assert "run the command again" in err
    assert sorted(kept) == sorted(t for t, (code, _, _) in results.items() if code == 0)
    assert path.read_text().startswith("# our decision, with a comment that stays\n")
    assert leftovers(path.parent) == []
    check = subprocess.run(ACCORD + ["validate", "--project", str(decided)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_a_kill_between_the_written_temporary_file_and_the_rename_leaves_the_old_file(decided):
    path = decided / "decisions" / "pipeline.yml"
    before = path.read_bytes()
    p = decide(decided, "never lands", env={"ACCORD_TEST_KILL_BEFORE_RENAME": "1"})
    assert p.wait(timeout=120) == -9
    assert path.read_bytes() == before
    check = subprocess.run(ACCORD + ["validate", "--project", str(decided)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    after = decide(decided, "lands")
    assert after.wait(timeout=120) == 0
    assert follow_ups(path) == ["lands"]
