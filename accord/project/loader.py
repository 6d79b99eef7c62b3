"""Load a project folder into a validated `Project`, or raise every load problem at once."""
from __future__ import annotations

import fnmatch
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from accord.errors import Problem, UserError, did_you_mean
from accord.findings import Location
from accord.project.model import SECTIONS, Config, Project
from accord.project.references import cross_check
from accord.project.yamlfile import plain, position, read_yaml, value_positions

CONFIG_FILE = "accord.yml"
SKIP_DIRS = {"prework", "target", "dbt_packages", "node_modules"}
_LIST_SECTIONS = {k for k in SECTIONS if k != "contact_policy"}


def load_project(root: str | Path = ".") -> Project:
    """Read accord.yml and every definitions file under `root`; all problems raise one UserError."""
    root = Path(root)
    config_path = root / CONFIG_FILE
    if not root.is_dir():
        raise UserError(f"{root}: project folder does not exist. pass --project DIR or run `accord init {root}`")
    if not config_path.is_file():
        raise UserError(f"{root}: no {CONFIG_FILE} in this folder. run `accord init` here, "
                        "or pass --project DIR")
    problems: list[Problem] = []
    doc, errs = read_yaml(config_path, CONFIG_FILE)
    problems += errs
    config = None
    if not errs:
        if not isinstance(doc, dict):
            problems.append(Problem(CONFIG_FILE, 1, 0, "must be a mapping with `project:`. "
                                    "see `accord init` for an example"))
        else:
            config = _validate(Config, doc, {}, CONFIG_FILE, "accord.yml", problems)
    if config is None:
        raise UserError(problems)

    sections: dict[str, list] = {k: [] for k in SECTIONS}
    failed: set[str] = set()
    read, skipped = [], []
    for path in discover(root, config.paths):
        rel = path.relative_to(root).as_posix()
        doc, errs = read_yaml(path, rel)
        if errs:
            problems += errs
            continue
        if not isinstance(doc, dict) or not any(k in SECTIONS for k in doc):
            skipped.append(rel)
            continue
        read.append(rel)
        for key in doc:
            if key not in SECTIONS:
                line, col = position(doc, (key,))
                problems.append(Problem(rel, line, col, f"unknown top-level key '{key}'."
                                        f"{did_you_mean(key, SECTIONS)} a definitions file holds only "
                                        f"{', '.join(SECTIONS)}"))
        for key, model in SECTIONS.items():
            if key in doc and doc[key] is not None:
                _section(key, model, doc, rel, sections, problems, failed)

    policies = sections.pop("contact_policy")
    if len(policies) > 1:
        first = policies[0].location
        for p in policies[1:]:
            problems.append(Problem(p.location.file, p.location.line, 0,
                                    f"a second contact_policy (the first is at {first.file}:{first.line}). "
                                    "keep one policy per project"))
    project = Project(root=root.resolve(), config=config, contact_policy=policies[0] if policies else None,
                      files_read=tuple(read), files_skipped=tuple(skipped),
                      **{k: tuple(v) for k, v in sections.items()})
    # Cross-check what did validate; a name whose definition failed above is not reported again as missing.
    problems += cross_check(project, failed=frozenset(failed))
    if problems:
        raise UserError(problems)
    return project


def discover(root: Path, globs: tuple[str, ...] | None) -> list[Path]:
    """Definitions files: `paths:` globs if given, else every YAML file outside skipped folders."""
    if globs:
        found = {p for g in globs for p in root.glob(g) if p.is_file()}
        return sorted(p for p in found if p.name != CONFIG_FILE or p.parent != root)
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in SKIP_DIRS)
        for f in sorted(filenames):
            if fnmatch.fnmatch(f, "*.yml") or fnmatch.fnmatch(f, "*.yaml"):
                p = Path(dirpath) / f
                if not (f == CONFIG_FILE and Path(dirpath) == root):
                    out.append(p)
    return sorted(out)


def _section(key: str, model: type[BaseModel], doc: dict, rel: str, sections: dict,
             problems: list[Problem], failed: set[str]) -> None:
    node = doc[key]
    if key in _LIST_SECTIONS:
        if not isinstance(node, list):
            line, col = position(doc, (key,))
            problems.append(Problem(rel, line, col, f"'{key}' must be a list of items, each starting with '- '. "
                                    "indent the items under it"))
            return
        items = [((key, i), item) for i, item in enumerate(node)]
    else:
        items = [((key,), node)]
    for path, item in items:
        what = _describe(key, path, item)
        if not isinstance(item, dict):
            line, col = position(doc, path)
            problems.append(Problem(rel, line, col, f"{what} must be a mapping of keys. write key: value pairs"))
            continue
        reserved = [k for k in ("location", "positions") if k in item]
        if reserved:
            line, col = position(doc, path + (reserved[0],))
            problems.append(Problem(rel, line, col, f"unknown key '{reserved[0]}' in {what}. remove it"))
            continue
        line, _ = position(doc, path)
        extra = {"location": Location(rel, line), "positions": value_positions(item)}
        obj = _validate(model, item, extra, rel, what, problems, doc, path)
        if obj is not None:
            sections[key].append(obj)
        elif isinstance(item.get("name"), str):
            failed.add(item["name"])


def _describe(key: str, path: tuple, item: Any) -> str:
    singular = {"sources": "source", "metrics": "metric", "teams": "team", "handoffs": "handoff",
                "decisions": "decision", "accept": "accept entry", "contact_policy": "contact_policy"}[key]
    if isinstance(item, dict):
        for k in ("name", "label", "code"):
            if isinstance(item.get(k), str):
                return f"{singular} '{item[k]}'"
    return f"{singular} #{path[-1] + 1}" if len(path) > 1 else singular


def _validate(model: type[BaseModel], node: dict, extra: dict, rel: str, what: str,
              problems: list[Problem], doc: Any = None, base: tuple = ()) -> Any:
    data = plain(node)
    data.update(extra)
    try:
        return model.model_validate(data)
    except ValidationError as e:
        for err in e.errors():
            problems.append(_problem(err, model, rel, what, doc if doc is not None else node,
                                     base if doc is not None else ()))
        return None


def _problem(err: dict, model: type[BaseModel], rel: str, what: str, doc: Any, base: tuple) -> Problem:
    loc = tuple(err["loc"])
    kind = err["type"]
    field = ".".join(str(x) for x in loc if not isinstance(x, int)) or what
    msg = str(err["msg"]).removeprefix("Value error, ")
    if kind == "extra_forbidden":
        line, col = position(doc, base + loc)
        known = _fields_at(model, loc[:-1])
        return Problem(rel, line, col, f"unknown key '{loc[-1]}' in {what}.{did_you_mean(str(loc[-1]), known)}"
                                       f" known keys: {', '.join(sorted(known))}")
    if kind == "missing":
        line, col = position(doc, base + loc[:-1])
        return Problem(rel, line, col, f"{what} is missing required key '{field}'. add {loc[-1]}: …")
    line, col = position(doc, base + loc, value=True)
    got = err.get("input")
    shown = "" if isinstance(got, (dict, list)) or kind in ("value_error", "assertion_error") else f"; got {got!r}"
    if kind in ("value_error", "assertion_error") and not any(not isinstance(x, int) for x in loc):
        return Problem(rel, line, col, f"{what}: {msg}")
    return Problem(rel, line, col, f"{what}: key '{field}' {_lower(msg)}{shown}. fix the value")


def _lower(msg: str) -> str:
    return msg[:1].lower() + msg[1:] if msg else msg


def _fields_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """The YAML keys a (possibly nested) model accepts at loc."""
    current: Any = model
    for step in loc:
        if isinstance(step, int):
            continue
        f = _field_by_key(current, str(step))
        current = _model_of(f.annotation) if f is not None else None
        if current is None:
            return []
    return [(f.alias or name) for name, f in current.model_fields.items() if name != "location"]


def _field_by_key(model: type[BaseModel], key: str):
    for name, f in model.model_fields.items():
        if key in (name, f.alias):
            return f
    return None


def _model_of(annotation: Any) -> type[BaseModel] | None:
    import typing
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        m = _model_of(arg)
        if m is not None:
            return m
    return None
