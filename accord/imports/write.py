"""Write a translation under `imported/<tool>/`, keeping every field a person added since the last import.

Each file is read and written back by ruamel.yaml's round-trip writer, so comments and fields a person added
stay where they were. Fields the tool defines (what the number means, `imported_from`, `imported_fingerprint`)
are rewritten; governance fields (team, level, owner) come from the tool only when the item has none yet;
everything else (decision, confidence, caveats, parents, target, …) is accord's alone and never touched.
"""
from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from accord.errors import Problem, UserError
from accord.imports.translation import Translation
from accord.project.atomic import ABSENT, content_hash, locked, make_folder, read_bytes, write_file
from accord.project.loader import CONFIG_FILE
from accord.project.model import Project
from accord.project.yamlfile import read_yaml

FOLDER = "imported"
# what the tool defines: rewritten by every import
OWNED = {"sources": ("description", "path", "table", "sql", "entity", "key", "time", "imported_from"),
         "metrics": ("label", "description", "unit", "source", "measure", "time", "include", "ratio", "formula",
                     "imported_from", "imported_fingerprint")}
# the order keys are written in (DESIGN.md's), for keys an item does not have yet
ORDER = {"sources": ("name", "system", "owner", "description", "path", "table", "sql", "entity", "key", "time",
                     "imported_from"),
         "metrics": ("name", "label", "team", "level", "owner", "description", "decision", "unit", "source",
                     "measure", "time", "include", "exclude", "ratio", "formula", "confidence", "caveats", "status",
                     "target", "parents", "imported_from", "imported_fingerprint")}
HEADER = ("Written by `accord import {tool}` from {folder}. The next import rewrites what {tool} defines and\n"
          "keeps what you add here: owner, team, level, decision, confidence, caveats, parents, target.\n")


@dataclass
class ImportPlan:
    """What an import wrote (or would write, with dry_run): files, and per file new/updated/kept counts."""

    tool: str
    folder: Path
    files: dict[str, dict[str, int]] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)       # `imported_from` of items the tool no longer has
    refused: list[Problem] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)    # file -> its new text
    read: dict[str, str] = field(default_factory=dict)     # file -> content hash of what the plan read


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 120
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def _existing(folder: Path, root: Path, read: dict[str, str]) -> dict[str, CommentedMap]:
    docs: dict[str, CommentedMap] = {}
    if not folder.is_dir():
        return docs
    for path in sorted(folder.glob("*.yml")):
        rel = path.relative_to(root).as_posix()
        read[rel] = content_hash(read_bytes(path))
        doc, problems = read_yaml(path, rel)
        if problems:
            raise UserError(problems)
        if doc is not None and not isinstance(doc, CommentedMap):
            raise UserError([Problem(rel, 1, 0, "is not a mapping of sources and metrics. fix it or remove it, "
                                                "then import again")])
        docs[path.name] = doc if doc is not None else CommentedMap()
    return docs


def _set(item: CommentedMap, section: str, key: str, value) -> None:
    if key in item:
        item[key] = value
        return
    order = ORDER[section]
    rank = order.index(key) if key in order else len(order)
    at = sum(1 for k in item if (order.index(k) if k in order else len(order)) < rank)
    item.insert(at, key, value)


def _node(value):
    """Plain dicts and lists as block-style round-trip nodes."""
    if isinstance(value, dict):
        m = CommentedMap()
        for k, v in value.items():
            m[k] = _node(v)
        return m
    if isinstance(value, list):
        return CommentedSeq([_node(v) for v in value])
    return value


def _merge(old: CommentedMap | None, new: dict, section: str) -> CommentedMap:
    item = old if old is not None else CommentedMap()
    for key in OWNED[section]:
        if key in new:
            if item.get(key) != new[key]:
                _set(item, section, key, _node(new[key]))
        elif key in item:
            del item[key]
    for key, value in new.items():
        if key not in OWNED[section] and key not in item:
            _set(item, section, key, _node(value))
    return item


def plan_write(project: Project, t: Translation, source_folder: str) -> ImportPlan:
    """The files an import writes, as text, without writing them; refusals for names already taken."""
    root = project.root
    folder = root / FOLDER / t.tool
    out = ImportPlan(t.tool, folder, refused=list(t.refused))
    docs = _existing(folder, root, out.read)
    prefix = f"{t.tool}:"
    before: dict[tuple[str, str], CommentedMap] = {}
    for doc in docs.values():
        for section in ("sources", "metrics"):
            for item in doc.get(section) or []:
                if isinstance(item, CommentedMap) and str(item.get("imported_from", "")).startswith(prefix):
                    before[(section, str(item["imported_from"]))] = item
    taken = {("sources", s.name): s for s in project.sources if not (s.imported_from or "").startswith(prefix)}
    taken.update({("metrics", m.name): m for m in project.metrics
                  if not (m.imported_from or "").startswith(prefix)})
    _refuse_unknown_teams(project, t)
    seen: set[tuple[str, str]] = set()
    new_docs: dict[str, CommentedMap] = {}
    for file_slug, sections in t.files.items():
        name = f"{file_slug}.yml"
        doc = docs.get(name)
        if doc is None:
            doc = CommentedMap()
            doc.yaml_set_start_comment(HEADER.format(tool=t.tool, folder=source_folder))
        counts = {"new": 0, "updated": 0, "unchanged": 0}
        for section in ("sources", "metrics"):
            items = CommentedSeq()
            for new in sections[section]:
                other = taken.get((section, new["name"]))
                if other is not None:
                    out.refused.append(Problem(other.location.file, other.location.line, 0,
                                               f"{section[:-1]} '{new['name']}' from {t.tool} is not imported: "
                                               "this name is already defined here. rename one of them"))
                    continue
                if section == "sources" and "path" in new:
                    new = {**new, "path": _within(new["path"], root)}
                key = (section, new["imported_from"])
                old = before.get(key)
                if section == "metrics" and "team" not in new and (old is None or "team" not in old):
                    file, line = t.origins.get(new["name"], ("", 0))
                    todo = "pass --team" if t.tool == "lookml" else f"add meta: {{team: …}} in {t.tool}, or pass --team"
                    out.refused.append(Problem(file, line, 0, f"metric '{new['name']}': names no team. {todo}"))
                    continue
                seen.add(key)
                snapshot = _plain(old) if old is not None else None
                item = _merge(old, new, section)
                counts["new" if old is None else "unchanged" if _plain(item) == snapshot else "updated"] += 1
                items.append(item)
            kept = [i for i in doc.get(section) or []
                    if not (isinstance(i, dict) and str(i.get("imported_from", "")).startswith(prefix))]
            items.extend(kept)
            if items:
                doc[section] = items
            elif section in doc:
                del doc[section]
        new_docs[name] = doc
        out.files[(folder / name).relative_to(root).as_posix()] = counts
    out.removed = sorted(k[1] for k in before if k not in seen)
    for name, doc in docs.items():
        if name in new_docs:
            continue
        for section in ("sources", "metrics"):
            kept = [i for i in doc.get(section) or []
                    if not (isinstance(i, dict) and str(i.get("imported_from", "")).startswith(prefix))]
            if kept:
                doc[section] = CommentedSeq(kept)
            elif section in doc:
                del doc[section]
        new_docs[name] = doc
    for name, doc in new_docs.items():
        rel = (folder / name).relative_to(root).as_posix()
        if not doc:
            out.texts[rel] = ""
            continue
        buf = io.StringIO()
        _yaml().dump(doc, buf)
        out.texts[rel] = buf.getvalue()
    return out


def _within(path: str, root: Path) -> str:
    """A file the tool names, relative to the project when it lies inside it (as accord's paths are)."""
    try:
        return Path(path).relative_to(root.resolve()).as_posix()
    except ValueError:
        return path


def _plain(node):
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _refuse_unknown_teams(project: Project, t: Translation) -> None:
    known = {team.name for team in project.teams}
    missing = sorted({m["team"] for m in t.metrics() if "team" in m and m["team"] not in known})
    if not missing:
        return
    where = project.teams[0].location.file if project.teams else "teams.yml"
    raise UserError([Problem(where, 0, 0, f"team '{name}' is not defined. add this line under teams: "
                                          f"`- {{name: {name}, lead: someone@example.com}}`, then import again")
                     for name in missing])


def apply_write(project: Project, written: ImportPlan, source_folder: Path) -> None:
    """Write every file of the plan (a file left empty is removed) and record the folder in accord.yml.

    Each write is atomic and guarded: a file that changed since the plan read it is left alone and the
    import stops with one line (run it again)."""
    root = project.root
    for rel, text in written.texts.items():
        path = root / rel
        expected = written.read.get(rel, ABSENT)
        if not text:
            if path.exists():
                with locked(path, name=rel):
                    if content_hash(read_bytes(path)) != expected:
                        raise UserError(f"{rel}: the file changed while accord was importing. nothing more was "
                                        "written; run the import again")
                    path.unlink()
            continue
        make_folder(path.parent, path.parent.relative_to(root).as_posix())
        write_file(path, text, expected_hash=expected, name=rel)
    _record_folder(project, written.tool, source_folder)


def _record_folder(project: Project, tool: str, source_folder: Path) -> None:
    """settings.imports.<tool> in accord.yml: where check looks for import-drift."""
    rel = os.path.relpath(source_folder.resolve(), project.root.resolve())
    if project.settings.imports.get(tool) == rel:
        return
    path = project.root / CONFIG_FILE
    before = content_hash(read_bytes(path))
    doc, problems = read_yaml(path, CONFIG_FILE)
    if problems or not isinstance(doc, CommentedMap):
        raise UserError(problems or f"{CONFIG_FILE}: is not a mapping. fix it, then import again")
    settings = doc.get("settings")
    if settings is None:
        settings = doc["settings"] = CommentedMap()
    imports = settings.get("imports")
    if imports is None:
        imports = settings["imports"] = CommentedMap()
    imports[tool] = rel
    buf = io.StringIO()
    _yaml().dump(doc, buf)
    write_file(path, buf.getvalue(), expected_hash=before, name=CONFIG_FILE)
