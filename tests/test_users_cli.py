"""`accord users add/password/role/remove/list`: accounts in the store, for people the project names."""
from __future__ import annotations

import subprocess
import sys

import pytest

from factory import write_project

ACCORD = [sys.executable, "-m", "accord.cli"]


def users(project, *args, stdin: str | None = None, env=None):
    return subprocess.run(ACCORD + ["users", *args, "--project", str(project)], input=stdin, capture_output=True,
                          text=True, env=env)


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.delenv("ACCORD_STORE", raising=False)
    return write_project(tmp_path / "p", {
        "teams.yml": "teams:\n  - {name: sales, lead: ana@acme.example, members: [bo@acme.example]}\n"})


def test_add_password_role_remove_and_the_store_in_the_project(project):
    r = users(project, "add", "Bo@acme.example", "--password-stdin", stdin="a long password\n")
    assert r.returncode == 0 and r.stdout == "added bo@acme.example as member\n", r.stderr
    assert (project / ".accord" / "accord.db").exists()
    r = users(project, "add", "someone@else.example", "--password-stdin", stdin="a long password\n")
    assert r.returncode == 2 and "is not a lead or member of any team" in r.stderr and "Traceback" not in r.stderr
    assert users(project, "add", "someone@else.example", "--role", "viewer", "--no-password").returncode == 0
    r = users(project, "add", "ana@acme.example", "--role", "boss", "--no-password")
    assert r.returncode == 2 and r.stderr.strip() == ("role 'boss' is not one of viewer, member, facilitator, admin.")
    r = users(project, "password", "bo@acme.example", "--password-stdin", stdin="short\n")
    assert r.returncode == 2 and "at least 10" in r.stderr
    assert users(project, "role", "bo@acme.example", "facilitator").returncode == 0
    listed = users(project, "list").stdout.splitlines()
    assert listed == ["bo@acme.example\tfacilitator", "someone@else.example\tviewer\t(no password)"]
    assert users(project, "remove", "bo@acme.example").returncode == 0
    assert users(project, "list").stdout.splitlines() == ["someone@else.example\tviewer\t(no password)"]
    r = users(project, "add", "ana@acme.example", stdin="")
    assert r.returncode == 2 and "give --password-stdin" in r.stderr
