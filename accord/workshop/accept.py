"""Accepting a finding for now: one `accept:` entry with its owner, reason and expiry, written in YAML.

The entry goes into the file that already holds `accept:` entries, else `accepted.yml` at the project's
root; the file's other lines and comments are kept as they are.
"""
from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from accord.errors import UserError
from accord.project.model import Project

DEFAULT_FILE = "accepted.yml"


def accept_path(project: Project) -> Path:
    return project.root / (project.accept[0].location.file if project.accept else DEFAULT_FILE)


def record_accept(project: Project, code: str, metrics: tuple[str, ...], owner: str, reason: str,
                  until: dt.date, today: dt.date) -> Path:
    """Append the entry; the caller holds the project's write lock."""
    from accord.project.atomic import write_file
    reason = " ".join((reason or "").split())
    if not reason:
        raise UserError("reason: say why the finding is accepted for now. write a reason")
    if until <= today:
        raise UserError(f"until: {until.isoformat()} is not after today ({today.isoformat()}). choose a later date")
    if until > today + dt.timedelta(days=366):
        raise UserError(f"until: {until.isoformat()} is more than a year away. accept for at most a year")
    path = accept_path(project)
    y = YAML(typ="rt")
    y.width = 4096
    y.indent(mapping=2, sequence=4, offset=2)
    y.preserve_quotes = True
    doc = y.load(path.read_text(encoding="utf-8")) if path.exists() else None
    if doc is None:
        doc = CommentedMap()
        doc.yaml_set_start_comment("Findings a team has looked at and accepted, for now. Each one expires.")
    entries = doc.get("accept")
    if not isinstance(entries, list):
        doc["accept"] = entries = CommentedSeq()
    entry = CommentedMap()
    entry["code"] = code
    if metrics:
        seq = CommentedSeq(metrics)
        seq.fa.set_flow_style()
        entry["metrics"] = seq
    entry["owner"] = owner
    entry["reason"] = reason
    entry["until"] = until
    entries.append(entry)
    out = io.StringIO()
    y.dump(doc, out)
    write_file(path, out.getvalue(), name=path.name)
    return path
