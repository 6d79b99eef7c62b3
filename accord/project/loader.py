"""Load a project folder into a validated `Project`, or raise every load problem at once."""
from __future__ import annotations

import fnmatch
import math
import os
import re
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from accord.errors import Problem, UserError, did_you_mean
from accord.findings import Location
from accord.project.data_folders import data_folders, refusal, why_unreadable
from accord.project.model import CONFIG_FILE, SECTIONS, Config, Project
from accord.project.references import NameCheck, cross_check
from accord.project.yamlfile import first_value, plain, position, read_yaml, value_positions

SKIP_DIRS = {"prework", "target", "dbt_packages", "node_modules"}
_LIST_SECTIONS = {k for k in SECTIONS if k != "contact_policy"}
_NAMED = ("sources", "metrics", "teams")
_INTERNAL_FIELDS = ("location", "positions")


def load_project(root: str | Path = ".", data_root: str | Path | None = None) -> Project:
    """Read accord.yml and every definitions file under `root`; all problems raise one UserError.

    `data_root` (default: `root`) is where data paths resolve: definitions read from an old revision
    are computed on today's data.
    """
    root = Path(root)
    data = Path(data_root) if data_root is not None else root
    config_path = root / CONFIG_FILE
    if root.exists() and not root.is_dir():
        folder = root.parent if root.name == CONFIG_FILE else None
        hint = f"pass --project {folder}" if folder is not None else "pass the folder that holds accord.yml"
        raise UserError(f"{root}: is a file, not a project folder. {hint}")
    if not root.is_dir():
        raise UserError(f"{root}: project folder does not exist. pass --project DIR or run `accord init {root}`")
    if not config_path.is_file():
        raise UserError(f"{root}: no {CONFIG_FILE} in this folder. run `accord init` here, "
                        "or pass --project DIR")
    problems: list[Problem] = []
    config_doc, errs = read_yaml(config_path, CONFIG_FILE, keep_layout=False)  # read only, never written back
    errs = errs or _non_finite(config_doc, CONFIG_FILE)
    problems += errs
    config = None
    glob_problems: list[Problem] = []
    if not errs:
        if not isinstance(config_doc, dict):
            problems.append(Problem(CONFIG_FILE, 1, 0, "must be a mapping with `project:`. "
                                    "see `accord init` for an example"))
        else:
            config = _validate(Config, config_doc, {}, CONFIG_FILE, CONFIG_FILE, problems)
    if config is not None:
        config = config.model_copy(update={"engine": config.engine.model_copy(
            update={"line": position(config_doc, ("engine",))[0]})})
        glob_problems = _check_globs(root, config, config_doc)
        problems += glob_problems + _check_engine(data, config, config_doc)
    if config is None and (not isinstance(config_doc, dict) or "paths" in config_doc) or glob_problems:
        raise UserError(problems)  # without valid `paths:` there is no telling which files are definitions

    sections: dict[str, list] = {k: [] for k in SECTIONS}
    partial: list = []           # metrics that failed to load, read leniently so their SQL is checked too
    policies: list[Location] = []  # every contact_policy written, loaded or not
    names = NameCheck()
    read, skipped = [], []
    for path in discover(root, config.paths if config else None):
        rel = path.relative_to(root).as_posix()
        doc, errs = read_yaml(path, rel, keep_layout=False)
        errs = errs or _non_finite(doc, rel)
        if errs and not _names_a_section(path):
            skipped.append(rel)  # not a definitions file (a CI config, a template): its syntax is not ours to judge
            continue
        if errs:
            problems += errs
            names.unsure_of_all()  # the file may define any name
            continue
        if not isinstance(doc, dict) or not any(k in SECTIONS for k in doc):
            skipped.append(rel)
            continue
        read.append(rel)
        for key in doc:
            if key not in SECTIONS:
                line, col = position(doc, (key,))
                problems.append(Problem(rel, line, col, f"unknown top-level key '{key}'."
                                        f"{did_you_mean(str(key), SECTIONS)} a definitions file holds only "
                                        f"{', '.join(SECTIONS)}: rename the key or move it out of this file"))
        if doc.get("contact_policy") is not None:
            policies.append(Location(rel, position(doc, ("contact_policy",))[0]))
        for key, model in SECTIONS.items():
            if key in doc and doc[key] is not None:
                _section(key, model, doc, rel, sections, problems, names, partial)

    for p in policies[1:]:
        problems.append(Problem(p.file, p.line, 1, f"a second contact_policy (the first is at "
                                                   f"{policies[0].file}:{policies[0].line}). "
                                                   "keep one policy per project"))
    policy = sections.pop("contact_policy")
    # every part is validated already: assembling them needs no second pass
    project = Project.model_construct(root=data.resolve(), config=config or Config(project=""),
                                      contact_policy=policy[0] if policy else None,
                                      files_read=tuple(read), files_skipped=tuple(skipped),
                                      **{k: tuple(v) for k, v in sections.items()})
    # Definitions that failed to load are left out, and references to their names are not reported:
    # every other problem still is, so one run shows all of them.
    problems += cross_check(project, names)
    problems += partial_problems(project, partial, names)
    if config is not None and config.engine.type == "postgres":
        problems += file_sources_refused(project, "PostgreSQL")
    if problems:
        error = UserError(problems)
        error.partial = None if config is None else _checkable(project, sections["metrics"] + partial, problems)
        raise error
    return project


def _non_finite(doc: Any, rel: str) -> list[Problem]:
    """A number that is infinite or not a number (1e999, .inf, .nan): refused at its line, so that no
    output ever carries Infinity or NaN, which JSON cannot hold."""
    found = first_value(doc, lambda v: "x" if isinstance(v, float) and not math.isfinite(v) else None)
    if found is None:
        return []
    (line, col), _ = found
    return [Problem(rel, line, col, "this number is infinite or not a number (such as 1e999, .inf or .nan). "
                                    "write a finite number")]


_SECTION_KEY = re.compile(rb"(?:^|[\s{,])[\"']?(?:" + b"|".join(k.encode() for k in SECTIONS) + rb")[\"']?\s*:",
                          re.MULTILINE)


def _names_a_section(path: Path) -> bool:
    """Whether a file that cannot be read as YAML looks like a definitions file: a section key appears."""
    try:
        return bool(_SECTION_KEY.search(path.read_bytes()))
    except OSError:
        return True


def discover(root: Path, globs: tuple[str, ...] | None) -> list[Path]:
    """Definitions files: `paths:` globs if given, else every YAML file outside skipped folders."""
    if globs:
        found = {p for g in globs for p in root.glob(g) if p.is_file()}
        return sorted(p for p in found if p.name != CONFIG_FILE or p.parent != root)
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in SKIP_DIRS
                             and not (Path(dirpath) / d / "dbt_project.yml").is_file())
        for f in sorted(filenames):
            if fnmatch.fnmatch(f, "*.yml") or fnmatch.fnmatch(f, "*.yaml"):
                p = Path(dirpath) / f
                if not (f == CONFIG_FILE and Path(dirpath) == root) and p.is_file():
                    out.append(p)
    return sorted(out)


def _check_globs(root: Path, config: Config, doc: Any) -> list[Problem]:
    """Each `paths:` glob is relative, stays inside the project folder, and is a pattern pathlib accepts."""
    out = []
    for i, g in enumerate(config.paths or ()):
        line, col = position(doc, ("paths", i), value=True)
        parts = g.replace("\\", "/").split("/")
        if not g.strip() or g.startswith(("/", "~")) or ".." in parts or g[1:2] == ":":
            out.append(Problem(CONFIG_FILE, line, col, f"paths: '{g}' is not inside the project folder. write a "
                                                       "glob relative to it, such as definitions/**/*.yml"))
            continue
        try:
            next(iter(root.glob(g)), None)
        except Exception as e:  # noqa: BLE001 - pathlib raises ValueError, IndexError ... on odd patterns
            reason = str(e).removeprefix("Invalid pattern: ")
            reason = f" ({reason})" if reason and " " in reason else ""
            out.append(Problem(CONFIG_FILE, line, col, f"paths: '{g}' is not a usable glob{reason}. "
                                                       "write a glob such as definitions/**/*.yml"))
    return out


def file_sources_refused(project: Project, engine: str) -> list[Problem]:
    """A file source (`path:`) cannot be read by an engine that reads only its own tables."""
    return [Problem(s.at("path").file, s.at("path").line, 0,
                    f"source '{s.name}' reads a file, which {engine} cannot read. load the file into a table "
                    "and write `table: schema.table`, or use engine type duckdb")
            for s in project.sources if s.path]


def _check_engine(root: Path, config: Config, doc: Any) -> list[Problem]:
    """The data folders (settings.data_paths) exist and are not hidden; the engine's database file is inside
    them, and exists: opening a missing one would create it in the user's folder."""
    out = []
    for i, p in enumerate(config.settings.data_paths):
        line, col = position(doc, ("settings", "data_paths", i), value=True)
        folder = root / Path(p).expanduser()
        hidden = [part for part in Path(p).parts if part.startswith(".") and part not in (".", "..")]
        if hidden:
            out.append(Problem(CONFIG_FILE, line, col, f"settings.data_paths: '{p}' is a hidden folder "
                                                       f"('{hidden[0]}'); hidden folders are never read as data. "
                                                       "list the data folder itself"))
        elif not _is_dir(folder):
            out.append(Problem(CONFIG_FILE, line, col, f"settings.data_paths: '{p}' is not a folder. list an "
                                                       "existing folder, absolute or relative to the project"))
    engine_path = config.engine.path
    if engine_path:
        line, col = position(doc, ("engine", "path"), value=True)
        reason = why_unreadable(root / engine_path, data_folders(root, config.settings.data_paths))
        if reason:
            out.append(Problem(CONFIG_FILE, line, col, refusal("engine path", engine_path, reason)))
        elif not (root / engine_path).is_file():
            out.append(Problem(CONFIG_FILE, line, col, f"engine path '{engine_path}' does not exist. fix "
                                                       "engine.path, or remove it to use an in-memory DuckDB"))
    return out


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def _section(key: str, model: type[BaseModel], doc: dict, rel: str, sections: dict,
             problems: list[Problem], names: NameCheck, partial: list | None = None) -> None:
    node = doc[key]
    if key in _LIST_SECTIONS:
        if not isinstance(node, list):
            line, col = position(doc, (key,))
            problems.append(Problem(rel, line, col, f"'{key}' must be a list of items, each starting with '- '. "
                                    "indent the items under it"))
            if key in _NAMED:
                names.unsure_of_all(key)
            return
        items = [((key, i), item) for i, item in enumerate(node)]
    else:
        items = [((key,), node)]
    for path, item in items:
        what = _describe(key, path, item)
        if not isinstance(item, dict):
            line, col = position(doc, path)
            problems.append(Problem(rel, line, col, f"{what} must be a mapping of keys. write key: value pairs"))
            if key in _NAMED:
                names.unsure_of_all(key)
            continue
        reserved = [k for k in _INTERNAL_FIELDS if k in item]
        if reserved:
            line, col = position(doc, path + (reserved[0],))
            problems.append(Problem(rel, line, col, f"{what} has unknown key '{reserved[0]}'. remove it"))
            obj = None
        else:
            line, _ = position(doc, path)
            extra = {"location": Location(rel, line), "positions": value_positions(item)}
            obj = _validate(model, item, extra, rel, what, problems, doc, path)
        if obj is not None:
            sections[key].append(obj)
        elif key == "metrics" and partial is not None and not reserved:
            lenient = _lenient(model, item, extra)
            if lenient is not None:
                partial.append(lenient)
        if obj is None and key in _NAMED:
            name = item.get("name")
            if isinstance(name, str):
                names.unsure_of(key, name)
            else:
                names.unsure_of_all(key)


_STAND_INS = {"level": "role"}   # a required value that is wrong: stand in a valid one to read the rest


def _lenient(model: type[BaseModel], node: dict, extra: dict) -> Any:
    """The definition with its invalid values left out (or stood in for), so that the rest of it — its SQL,
    the columns it reads — is checked in the same run; None when what is wrong is what it is."""
    data = plain(node)
    data.update(extra)
    for _ in range(3):
        try:
            return model.model_validate(data)
        except ValidationError as e:
            fields = {err["loc"][0] for err in e.errors() if err["loc"]}
            if not fields or len(fields) < len(e.errors()) and any(not err["loc"] for err in e.errors()):
                return None
            for f in fields:
                info = model.model_fields.get(f)
                if info is None or not info.is_required():
                    data.pop(f, None)
                elif f in _STAND_INS:
                    data[f] = _STAND_INS[f]
                else:
                    return None
    return None


def _checkable(project: Project, metrics: list, problems: list[Problem]) -> Project | None:
    """What `validate` may still check against the data when the load failed: the sources read from a file
    or a table that have no problem of their own (never a `sql:` source: its SQL may be what was refused),
    and the metrics over them, the lenient ones included. None when no such source is left."""
    at = {(p.file, p.line) for p in problems}

    def clean(s) -> bool:
        lines = {s.location.line} | {pos[0] for pos in s.positions.values()}
        return not s.sql and not any((s.location.file, line) in at for line in lines)

    sources = tuple(s for s in project.sources if clean(s))
    if not sources:
        return None
    names = {s.name for s in sources}
    kept = tuple(m for m in metrics if m.kind == "simple" and m.source in names)
    return project.model_copy(update={"sources": sources, "metrics": kept})


def partial_problems(project: Project, partial: list, names: NameCheck) -> list[Problem]:
    """The SQL problems of metrics that failed to load (their other problems are reported already)."""
    from accord.project.references import metric_problems
    return [p for m in partial for p in metric_problems(project, m, names)]


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


# ---------------------------------------------------------------- pydantic errors in the user's words

_EXPECTED = {  # pydantic error type -> (what the value must be, what to write instead)
    "string_type": ("must be text", ""),
    "int_type": ("must be a whole number", "write a whole number, such as 5"),
    "int_parsing": ("must be a whole number", "write a whole number, such as 5"),
    "int_from_float": ("must be a whole number", "write a whole number, such as 5"),
    "float_type": ("must be a number", "write a plain number, without units or words"),
    "float_parsing": ("must be a number", "write a plain number, without units or words"),
    "finite_number": ("must be a finite number", "write a plain number"),
    "bool_type": ("must be true or false", "write true or false"),
    "bool_parsing": ("must be true or false", "write true or false"),
    "date_type": ("must be a date", "write it as YYYY-MM-DD, such as 2026-05-01"),
    "date_parsing": ("must be a date", "write it as YYYY-MM-DD, such as 2026-05-01"),
    "date_from_datetime_parsing": ("must be a date", "write it as YYYY-MM-DD, such as 2026-05-01"),
    "date_from_datetime_inexact": ("must be a date without a time", "write it as YYYY-MM-DD, such as 2026-05-01"),
    "list_type": ("must be a list", "write [a, b], or one item per line starting with '- '"),
    "tuple_type": ("must be a list", "write [a, b], or one item per line starting with '- '"),
    "set_type": ("must be a list", "write [a, b], or one item per line starting with '- '"),
    "dict_type": ("must be a mapping of keys", "write key: value pairs under it"),
    "model_type": ("must be a mapping of keys", "write key: value pairs under it"),
    "model_attributes_type": ("must be a mapping of keys", "write key: value pairs under it"),
}
_EXAMPLES = {  # what to write for a missing required key
    "project": "the project's name, such as acme",
    "name": "a snake_case name, such as new_arr",
    "team": "the team that owns it, such as sales",
    "owner": "who answers for it, such as ana@acme.example",
    "label": "the word people say, such as Pipeline",
    "decided_on": "the date, such as 2026-05-01",
    "until": "a date, such as 2026-12-31",
    "on": "a date, such as 2026-05-01",
    "reason": "why it is accepted",
    "code": "the finding's code, such as no-exclusions",
    "metric": "a metric's name",
    "numerator": "a metric's name", "denominator": "a metric's name",
    "value": "a number, such as 2500000",
    "from": "a team's name", "to": "a team's name",
    "source": "a source's name", "customer": "the customer column, such as customer_id",
    "time": "a time column, such as created_at",
    "sql": "one SQL expression, such as stage = 'won'",
}
_PATTERNS = {
    r"^[a-z][a-z0-9_]*$": "must be snake_case: lower-case letters, digits and _, starting with a letter",
    r"^[A-Za-z_][A-Za-z0-9_]*$": "must hold only letters, digits and _, and not start with a digit",
    r"^\d{1,2}:\d{2}$": "must be a time of day as HH:MM",
}


def _problem(err: dict, model: type[BaseModel], rel: str, what: str, doc: Any, base: tuple) -> Problem:
    """One pydantic error as `what is wrong. what to do`, at the key or value it is about."""
    loc = tuple(err["loc"])
    kind = err["type"]
    keys = tuple(x for x in loc if isinstance(x, str) and "[" not in x)  # drop list indices, pydantic tags
    field = ".".join(keys)
    last = keys[-1] if keys else ""
    msg = str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    got = err.get("input")
    ctx = err.get("ctx") or {}
    who = "" if what == CONFIG_FILE else what  # accord.yml is already named by the line's file
    if kind == "extra_forbidden":
        line, col = position(doc, base + loc)
        known = _fields_at(model, loc[:-1])
        inside = ".".join(keys[:-1])
        problem = f"unknown key '{loc[-1]}'{f' in {inside}' if inside else ''}"
        return Problem(rel, line, col, f"{f'{who} has ' if who else ''}{problem}."
                                       f"{did_you_mean(str(loc[-1]), known)} known keys: {', '.join(sorted(known))}")
    if kind == "missing":
        line, col = position(doc, base + loc[:-1])
        inside = ".".join(keys[:-1])
        choices = _choices(_annotation_at(model, loc))
        example = (" or ".join([", ".join(choices[:-1]), choices[-1]] if len(choices) > 1 else choices)
                   or _EXAMPLES.get(last, "…"))
        problem = f"missing required key '{last}'{f' in {inside}' if inside else ''}"
        return Problem(rel, line, col, f"{f'{who} is ' if who else ''}{problem}. add {last}: {example}")
    line, col = position(doc, base + loc, value=True)
    if not keys or isinstance(loc[-1], int):  # a rule about a whole item, from a model validator
        return Problem(rel, line, col, f"{_item(who, keys, loc, got)} {msg}")
    subject = f"{who}: {field}" if who else field
    if got is None and kind in _EXPECTED:
        return Problem(rel, line, col, f"{subject} is empty. write a value after '{last}:'")
    shown = _shown(got)
    if kind == "literal_error":
        choices = re.findall(r"'((?:[^'\\]|\\.)*)'", str(ctx.get("expected", "")))
        if len(choices) == 1:
            return Problem(rel, line, col, f"{subject} {shown} is not supported. use {choices[0]}")
        hint = did_you_mean(str(got), choices) if isinstance(got, str) else ""
        return Problem(rel, line, col, f"{subject} {shown} is not one of {', '.join(choices)}."
                                       f"{hint or ' use one of them'}")
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        rule = _PATTERNS.get(pattern, f"must match {pattern}")
        fix = _snake(str(got)) if pattern.startswith("^[a-z]") else ""
        todo = f"rename it, such as '{fix}'" if fix and fix != got else "rename it"
        if pattern.startswith(r"^\d"):
            todo = "write it such as 20:00, in quotes"
        return Problem(rel, line, col, f"{subject} {shown} {rule}. {todo}")
    if kind in _EXPECTED:
        expected, todo = _EXPECTED[kind]
        if kind == "string_type":
            todo = ("write one value, not a list" if isinstance(got, list) else
                    "write one value, not a mapping" if isinstance(got, dict) else
                    "write a name that starts with a letter" if last == "name" else
                    f"put it in quotes: {last}: '{got}'")
        return Problem(rel, line, col, f"{subject} {expected}; got {shown}. {todo}")
    if kind == "too_short":
        return Problem(rel, line, col, f"{subject} needs at least one item. add one")
    bounds = {"greater_than_equal": ("at least", "ge"), "greater_than": ("more than", "gt"),
              "less_than_equal": ("at most", "le"), "less_than": ("less than", "lt")}
    if kind in bounds:
        words, key = bounds[kind]
        return Problem(rel, line, col, f"{subject} must be {words} {ctx.get(key)}; got {shown}. change the value")
    if kind in ("value_error", "assertion_error") and ". " in msg:
        return Problem(rel, line, col, f"{subject} {msg}")
    return Problem(rel, line, col, f"{subject} {_lower(msg).rstrip('.')}; got {shown}. fix the value")


def _item(who: str, keys: tuple, loc: tuple, got: Any) -> str:
    """The item a model-level error is about: the definition itself, or one nested in it ('rule 'x'')."""
    if not keys:
        return who or CONFIG_FILE
    section = keys[-1][:-1] if keys[-1].endswith("s") else keys[-1]
    name = got.get("name") if isinstance(got, dict) else None
    label = f"{section} '{name}'" if isinstance(name, str) else f"{section} #{loc[-1] + 1}"
    return f"{who}: {label}" if who else label


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _snake(text: str) -> str:
    out = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return out if out[:1].isalpha() else ""


def _lower(msg: str) -> str:
    return msg[:1].lower() + msg[1:] if msg else msg


def _choices(annotation: Any) -> list[str]:
    """The allowed values of a Literal field (also inside Optional), else []."""
    if typing.get_origin(annotation) is typing.Literal:
        return [str(a) for a in typing.get_args(annotation)]
    for arg in typing.get_args(annotation):
        found = _choices(arg)
        if found:
            return found
    return []


def _annotation_at(model: type[BaseModel], loc: tuple) -> Any:
    current: Any = model
    annotation = None
    for step in loc:
        if isinstance(step, int):
            continue
        if current is None:
            return None
        f = _field_by_key(current, str(step))
        if f is None:
            return None
        annotation = f.annotation
        current = _model_of(annotation)
    return annotation


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
    return [(f.alias or name) for name, f in current.model_fields.items() if name not in _INTERNAL_FIELDS]


def _field_by_key(model: type[BaseModel], key: str):
    for name, f in model.model_fields.items():
        if key in (name, f.alias):
            return f
    return None


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        m = _model_of(arg)
        if m is not None:
            return m
    return None
