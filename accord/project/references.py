"""Load-time checks across definitions: names, references, SQL fragments, cycles, data paths."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from accord.errors import Problem, did_you_mean
from accord.project.data_folders import data_folders, refusal, why_unreadable
from accord.project.model import Located, Metric, Project, Source
from accord.sql.allowlist import DIALECTS, check_functions, check_reads, check_table_name
from accord.sql.expressions import (DIALECT, FragmentError, check_clause, check_formula, check_measure,
                                    parse_fragment)

FILE_FORMATS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet",
                ".json": "json", ".jsonl": "json", ".ndjson": "json"}


# Statements a `sql:` source must never contain: it only reads. Looked up by name, as sqlglot versions
# differ in which of them exist and in whether they derive from DDL or DML.
_WRITES = tuple(c for c in (getattr(exp, n, None) for n in (
    "DDL", "DML", "Command", "Set", "Pragma", "Copy", "Transaction", "Commit", "Rollback", "Create", "Drop",
    "Alter", "AlterTable", "Insert", "Update", "Delete", "Merge", "TruncateTable", "Attach", "Detach",
    "Install", "Export", "Grant", "Revoke", "Use", "Comment", "Analyze", "Kill", "Cache", "Uncache",
    "LoadData", "Refresh", "Summarize", "Show", "Describe")) if isinstance(c, type))


class NameCheck:
    """Which names may exist although their definitions failed to load, so that a reference to one is
    not reported as unknown (it would only repeat the problem already reported at the definition)."""

    def __init__(self) -> None:
        self._names: dict[str, set[str]] = {}
        self._all: set[str] = set()

    def unsure_of(self, section: str, name: str) -> None:
        self._names.setdefault(section, set()).add(name)

    def unsure_of_all(self, section: str | None = None) -> None:
        self._all.add(section or "*")

    def may_exist(self, section: str, name: str) -> bool:
        return "*" in self._all or section in self._all or name in self._names.get(section, ())


def parse_expression(text: str) -> exp.Expression:
    """One SQL expression, as `parse_fragment`, and refuse every statement, whichever node sqlglot
    gives it: the text must also parse as a plain condition."""
    try:
        tree = parse_fragment(text)
    except FragmentError as e:
        message = str(e).replace(" COMMAND statement", f" {_first_word(text)} statement", 1)
        raise FragmentError(_plain_words(message), e.col, e.line) from None
    try:
        sqlglot.parse_one(text, read=DIALECT, into=exp.Condition)
    except (ParseError, TokenError):
        if isinstance(tree, exp.Alias):
            raise FragmentError("names its result with AS. remove the alias: the metric's name is its name") \
                from None
        kind = _first_word(text) if isinstance(tree, exp.Command) else tree.key.upper()
        raise FragmentError(_READ_ONLY.format(where="is", kind=kind, article=_article(kind))) from None
    return tree


_READ_ONLY = ("{where} {article} {kind} statement, not an expression. a definition only reads data: write one "
              "expression over the source's columns")
_QUERIES = ("SELECT", "UNION", "INTERSECT", "EXCEPT", "SUBQUERY", "VALUES")
_QUERY = ("{where} a query, not an expression. write one expression over the source's columns; to select "
          "or join rows, define a source with `sql:`")


def _article(word: str) -> str:
    return "an" if word[:1].upper() in "AEIOU" and not word.upper().startswith(("USE", "UNI")) else "a"


def _first_word(text: str) -> str:
    return (re.findall(r"[A-Za-z_]+", text) or ["SQL"])[0].upper()


_OPERATORS = {"Add": "+", "Sub": "-", "Mul": "*", "Div": "/", "EQ": "=", "NEQ": "<>", "GT": ">", "GTE": ">=",
              "LT": "<", "LTE": "<=", "And": "and", "Or": "or", "Like": "like", "ILike": "ilike", "Is": "is",
              "Mod": "%", "DPipe": "||", "In": "in", "Between": "between", "Not": "not"}


def _plain_words(message: str) -> str:
    """sqlglot's parser words, said in the user's words ('+' has nothing after it)."""
    message = re.sub(r"<Token token_type: TokenType\.(\w+), text: (.*?), line: .*?>",
                     lambda m: "the end of the text" if m.group(1) == "SENTINEL" else f"'{m.group(2)}'", message)
    statement = re.match(r"(is|contains) a (\w+) statement, not an expression\.", message)
    if statement:
        template = _QUERY if statement.group(2) in _QUERIES else _READ_ONLY
        kind = statement.group(2)
        return template.format(where=statement.group(1), kind=kind, article=_article(kind))
    missing = re.search(r"\(Required keyword: '\w+' missing for <class '[\w.]*?(\w+)'>\)", message)
    if missing:
        op = _OPERATORS.get(missing.group(1))
        what = f"'{op}' has nothing after it" if op else f"a {missing.group(1).upper()} is incomplete"
        return f"is not valid SQL: {what}. complete the expression at the column shown"
    expecting = re.search(r"\(Expecting (.+?)\)\. ", message)
    if expecting:
        return f"is not valid SQL: expected '{expecting.group(1)}'. add it at the column shown"
    generic = re.match(r"is not valid SQL \((.*)\)\. (.*)$", message)
    if generic:
        return f"is not valid SQL: {_lower(generic.group(1))}. fix the SQL at the column shown"
    return message


@lru_cache(maxsize=4096)
def _parsed(text: str) -> exp.Expression:
    return parse_expression(text)


def fragment(text: str) -> exp.Expression:
    """A fresh copy of a (validated) fragment's AST, safe to transform."""
    return _parsed(text).copy()


def file_format(path: str) -> str | None:
    return FILE_FORMATS.get(Path(path).suffix.lower())


def _at(obj: Located, key: str, message: str, col_in_fragment: int = 0, text: str | None = None) -> Problem:
    """The position of a value (`measure`), moved to a column inside it when the value is one line."""
    line, col = obj.positions.get(key, (obj.location.line, 0))
    multi_line = text is not None and "\n" in text.strip()
    if col and col_in_fragment and not multi_line:  # a multi-line value's columns are not the file's
        col = col + col_in_fragment - 1
    return Problem(obj.location.file, line, col, message)


def _start_col(node: exp.Expression, text: str = "") -> int:
    """1-based column where a parsed node's text starts inside its one-line fragment, 0 if unknown.

    sqlglot keeps positions on identifiers and some functions; for a function without one, step back
    from its first argument over '(' to its name: in `sum(max(x))`, max starts at column 5."""
    for n in node.walk():
        meta = n.meta if n._meta else {}
        if "start" in meta and meta.get("line", 1) == 1:
            start = int(meta["start"])
            if n is not node and isinstance(node, exp.Func) and text:
                i = start - 1
                while i >= 0 and text[i] in " \t(":
                    i -= 1
                while i >= 0 and (text[i].isalnum() or text[i] == "_"):
                    i -= 1
                start = i + 1
            return start + 1
    return 0


def cross_check(project: Project, names: NameCheck | None = None) -> list[Problem]:
    """Problems across definitions. A name `names` is unsure of (its definition failed to load, and that
    was reported) is never reported again as unknown."""
    names = names or NameCheck()
    problems: list[Problem] = []
    for section in ("sources", "metrics", "teams"):
        seen: dict[str, Located] = {}
        for item in getattr(project, section):
            if item.name in seen:
                first = seen[item.name].location
                problems.append(_at(item, "name", f"{section[:-1]} '{item.name}' is defined twice (first at "
                                                  f"{first.file}:{first.line}). rename or remove one"))
            else:
                seen[item.name] = item
    sources = {s.name: s for s in project.sources}
    for source in project.sources:
        problems += _check_source(project, source, sources, names)
    problems += _source_cycles(project, sources)
    metrics = {m.name: m for m in project.metrics}
    for metric in project.metrics:
        problems += _check_metric(metric, sources, metrics, names)
    problems += _metric_cycles(project.metrics, metrics)
    problems += _check_engine_dialect(project)
    return problems


def metric_problems(project: Project, m: Metric, names: NameCheck) -> list[Problem]:
    """The problems of one metric's own SQL and references (for one that failed to load otherwise)."""
    return _check_metric(m, {s.name: s for s in project.sources}, {x.name: x for x in project.metrics}, names)


def _check_engine_dialect(project: Project) -> list[Problem]:
    """Fragments are written in DuckDB's SQL and pass its allow-list as they parse; on another engine, the
    functions they become in its dialect must pass that dialect's list too, before any SQL is sent."""
    dialect = project.config.engine.type
    if dialect == "dbt":
        from accord.project.profiles import adapter_dialect
        dialect = adapter_dialect(project.root, project.config.engine)
    if dialect == DIALECT or dialect not in DIALECTS:
        return []
    parts = [(s, "sql", f"source '{s.name}': sql", s.sql, _parsed_statement) for s in project.sources if s.sql]
    for m in project.metrics:
        if m.kind == "simple":
            parts.append((m, "measure", f"metric '{m.name}': measure", m.measure, _parsed))
        for side in ("include", "exclude"):
            parts += [(m, f"{side}.{i}.sql", f"metric '{m.name}': {side} clause '{c.name}'", c.sql, _parsed)
                      for i, c in enumerate(getattr(m, side) or ())]
    out = []
    for obj, key, what, text, parse in parts:
        try:
            tree = parse(text)
        except FragmentError:
            continue  # reported where it was parsed
        try:
            check_functions(tree, dialect)
        except FragmentError as e:
            out.append(_at(obj, key, f"{what} {e}", e.col, text))
    return out


@lru_cache(maxsize=1024)
def _parsed_statement(text: str) -> exp.Expression:
    return parse_fragment_statement(text)


def sql_source_tables(source: Source) -> tuple[str, ...]:
    """The tables a `sql:` source reads, its own CTEs aside (raises FragmentError for invalid SQL)."""
    tree = _parsed_statement(source.sql).copy()
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    return tuple(sorted({t.name for t in tree.find_all(exp.Table) if t.name not in ctes and t.name}))


def _check_source(project: Project, source: Source, sources: dict[str, Source],
                  names: NameCheck) -> list[Problem]:
    out: list[Problem] = []
    what = f"source '{source.name}'"
    if source.path:
        fmt = file_format(source.path)
        reason = why_unreadable(project.root / source.path,
                                data_folders(project.root, project.settings.data_paths))
        if reason:
            out.append(_at(source, "path", refusal(f"{what}: data file", source.path, reason)))
        elif fmt is None:
            out.append(_at(source, "path", f"{what}: '{source.path}' is not a csv, parquet or json file. "
                                           "use one of .csv .tsv .parquet .json .jsonl"))
        elif not _is_file(project.root / source.path):
            out.append(_at(source, "path", f"{what}: data file '{source.path}' does not exist."
                                           f"{_near_file(project.root, source.path)} paths are relative "
                                           "to the project folder"))
    if source.table:
        try:
            check_table_name(source.table)
        except FragmentError as e:
            out.append(_at(source, "table", f"{what}: table {e}"))
    if source.sql:
        try:
            tree = parse_fragment_statement(source.sql)
        except FragmentError as e:
            where = f" (its line {e.line}, column {e.col})" if "\n" in source.sql.strip() and e.col else ""
            out.append(_at(source, "sql", f"{what}: sql{where} {e}", e.col, source.sql))
            return out
        if not isinstance(tree, exp.Query):
            out.append(_at(source, "sql", f"{what}: sql must be one SELECT. write SELECT … FROM other sources"))
            return out
        for name in sql_source_tables(source):
            if name not in sources and not names.may_exist("sources", name) and did_you_mean(name, sources):
                out.append(_at(source, "sql", f"{what}: sql reads '{name}', which is not a source."
                                              f"{did_you_mean(name, sources)}"))
    return out


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _near_file(root: Path, rel: str) -> str:
    """' Did you mean 'data/x.csv'?' for a data file in the folder the path points into."""
    folder = (root / rel).parent
    try:
        nearby = [p.name for p in folder.iterdir() if p.is_file() and file_format(p.name)] if folder.is_dir() else []
    except (OSError, ValueError):
        return ""
    hint = did_you_mean(Path(rel).name, nearby)  # names only: a shared folder and suffix are no likeness
    return hint.replace("'", f"'{Path(rel).parent.as_posix()}/", 1) if hint and Path(rel).parent.name else hint


def parse_fragment_statement(text: str) -> exp.Expression:
    """A `sql:` source: exactly one SELECT; anything that writes is refused before it runs."""
    if not text.strip():
        raise FragmentError("is empty. write one SELECT over other sources")
    try:
        trees = [t for t in sqlglot.parse(text, read=DIALECT) if t is not None]
    except ParseError as e:
        err = e.errors[0] if e.errors else {}
        desc = str(err.get("description") or e).split("\n")[0].rstrip(".")
        raise FragmentError(_plain_words(f"is not valid SQL ({desc}). fix the query"),
                            int(err.get("col") or 0)) from None
    except TokenError as e:
        raise FragmentError(f"is not valid SQL ({str(e).splitlines()[0]}). check quotes and brackets") from None
    if len(trees) != 1:
        raise FragmentError(f"holds {len(trees)} statements. write exactly one SELECT, no ';'")
    for node in trees[0].walk():
        if isinstance(node, _WRITES):
            kind = node.key.upper()
            raise FragmentError(f"contains {_article(kind)} {kind} statement. a source only "
                                "reads: write one SELECT")
    check_reads(trees[0], DIALECT)
    return trees[0]


def _source_cycles(project: Project, sources: dict[str, Source]) -> list[Problem]:
    graph = {}
    for s in project.sources:
        if s.sql:
            try:
                graph[s.name] = [t for t in sql_source_tables(s) if t in sources]
            except FragmentError:
                pass
    return [_at(sources[c[0]], "sql", f"source '{c[0]}' reads itself through {' -> '.join(c + [c[0]])}. "
                                      "break the cycle") for c in find_cycles(graph)]


def _check_metric(m: Metric, sources: dict[str, Source], metrics: dict[str, Metric],
                  names: NameCheck) -> list[Problem]:
    out: list[Problem] = []
    what = f"metric '{m.name}'"
    if m.kind == "simple":
        if m.source not in sources and names.may_exist("sources", m.source):
            pass
        elif m.source not in sources:
            out.append(_at(m, "source", f"{what} reads source '{m.source}', which is not defined."
                                        f"{did_you_mean(m.source, sources)} define it under sources:"))
        elif not (m.time or sources[m.source].time):
            out.append(_at(m, "source", f"{what} has no time column. set time: on the metric or on "
                                        f"source '{m.source}'"))
        try:
            check_measure(fragment(m.measure))
        except FragmentError as e:
            out.append(_at(m, "measure", f"{what}: measure {e}", e.col or _offender_col(m.measure, "measure"),
                           m.measure))
        for side in ("include", "exclude"):
            names = set()
            for i, clause in enumerate(getattr(m, side) or ()):
                if clause.name in names:
                    out.append(_at(m, f"{side}.{i}.name", f"{what}: two {side} clauses are named "
                                                          f"'{clause.name}'. give each clause its own name"))
                names.add(clause.name)
                try:
                    check_clause(fragment(clause.sql))
                except FragmentError as e:
                    out.append(_at(m, f"{side}.{i}.sql", f"{what}: {side} clause '{clause.name}' {e}",
                                   e.col or _offender_col(clause.sql, "clause"), clause.sql))
    elif m.kind == "ratio":
        for part in ("numerator", "denominator"):
            ref = getattr(m.ratio, part)
            if ref not in metrics and not names.may_exist("metrics", ref):
                out.append(_at(m, f"ratio.{part}", f"{what}: ratio {part} '{ref}' is not a metric."
                                                   f"{did_you_mean(ref, metrics)} define it or fix the name"))
    else:
        try:
            tree = fragment(m.formula)
            check_formula(tree)
            for column in tree.find_all(exp.Column):
                ref = column.name
                if ref not in metrics and not names.may_exist("metrics", ref):
                    out.append(_at(m, "formula", f"{what}: formula names '{ref}', which is not a metric."
                                                 f"{did_you_mean(ref, metrics)} define it or fix the name",
                                   _start_col(column), m.formula))
        except FragmentError as e:
            out.append(_at(m, "formula", f"{what}: formula {e}", e.col, m.formula))
    return out


def _offender_col(text: str, part: str) -> int:
    """1-based column of what a measure or clause check refuses: in a clause the first aggregate or window;
    in a measure a column outside any aggregate, else a window, else an aggregate nested in another."""
    try:
        tree = fragment(text)
    except FragmentError:
        return 0
    windows = list(tree.find_all(exp.Window))
    aggs = [n for n in tree.walk() if isinstance(n, exp.AggFunc)]
    if part == "clause":
        found = aggs + windows
    else:
        bare = [c for c in tree.find_all(exp.Column) if not any(isinstance(p, exp.AggFunc) for p in _parents(c))]
        nested = [a for a in aggs if any(isinstance(p, exp.AggFunc) for p in _parents(a))]
        found = (bare + windows + nested) if aggs else []
    cols = [c for c in (_start_col(n, text) for n in found) if c]
    return cols[0] if cols else 0


def _parents(node: exp.Expression):
    p = node.parent
    while p is not None:
        yield p
        p = p.parent


def metric_inputs(m: Metric) -> list[str]:
    """The metrics a ratio or formula reads."""
    if m.kind == "ratio":
        return [m.ratio.numerator, m.ratio.denominator]
    if m.kind == "formula":
        try:
            return list(check_formula(fragment(m.formula)))
        except FragmentError:
            return []
    return []


def _metric_cycles(ordered: tuple[Metric, ...], metrics: dict[str, Metric]) -> list[Problem]:
    graph = {m.name: [r for r in metric_inputs(m) if r in metrics] for m in ordered}
    return [_at(metrics[c[0]], "ratio" if metrics[c[0]].kind == "ratio" else "formula",
                f"metric '{c[0]}' is computed from itself: {' -> '.join(c + [c[0]])}. break the cycle")
            for c in find_cycles(graph)]


def find_cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """Each cycle once, as the strongly connected components with more than one node or a self-loop,
    each rotated to start at its smallest name (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, []))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, [])))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    n = stack.pop()
                    on_stack.discard(n)
                    comp.append(n)
                    if n == node:
                        break
                if len(comp) > 1 or node in graph.get(node, []):
                    out.append(_ordered_cycle(comp, graph))
    return sorted(out)


def _ordered_cycle(comp: list[str], graph: dict[str, list[str]]) -> list[str]:
    """Walk the component from its smallest member to show the cycle in edge order."""
    members = set(comp)
    path = [min(comp)]
    while True:
        nxt = sorted(c for c in graph.get(path[-1], []) if c in members and c not in path)
        if not nxt:
            return path
        path.append(nxt[0])


def _lower(text: str) -> str:
    return text[:1].lower() + text[1:]
