"""`accord serve`: the web app over a project — the numbers for leaders, the workshop for teams.

A thin shell over `accord.app`, like the command line: every page reads app results, every form writes through
the same app functions as the CLI. `create_app(folder)` builds the ASGI app; `from_environment()` is the
factory `accord serve` hands to uvicorn. `arbiter_app(folder)` is the contact arbiter's API alone (`accord
arbiter`, factory `arbiter_from_environment`).
"""
from __future__ import annotations

import os
from pathlib import Path


def create_app(root: Path, *, warm: bool = True, digests: bool = True):
    from accord.web.server import build
    return build(Path(root), warm=warm, digests=digests)


def from_environment():
    from accord.compute.connect import run_engines_in_workers
    run_engines_in_workers()  # this process knows the store and signing secrets; the engine's process does not
    return create_app(Path(os.environ["ACCORD_SERVE_PROJECT"]))


def arbiter_app(root: Path):
    from accord.web.server import build_arbiter
    return build_arbiter(Path(root))


def arbiter_from_environment():
    return arbiter_app(Path(os.environ["ACCORD_SERVE_PROJECT"]))
