"""Load-time checks across definitions: names, references, SQL fragments, cycles, data paths."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from sqlglot import exp

from accord.errors import Problem, did_you_mean
from accord.project.model import Located, Metric, Project, Source
from accord.sql.expressions import (FragmentError, check_clause, check_formula, check_measure,
                                    parse_fragment)

FILE_FORMATS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet",
                ".json": "json", ".jsonl": "json", ".ndjson": "json"}


@lru_cache(maxsize=4096)
def _parsed(text: str) -> exp.Expression:
    return parse_fragment(text)


def fragment(text: str) -> exp.Expression:
    """A fresh copy of a (validated) fragment's AST, safe to transform."""
    return _parsed(text).copy()


def file_format(path: str) -> str | None:
    return FILE_FORMATS.get(Path(path).suffix.lower())


def _at(obj: Located, key: str, message: str, col_in_fragment: int = 0) -> Problem:
    line, col = obj.positions.get(key, (obj.location.line, 0))
    if col and col_in_fragment:
        col = col + col_in_fragment - 1
    elif not col_in_fragment:
        col = col if key in obj.positions else 0
    return Problem(obj.location.file, line, col, message)


def cross_check(project: Project, failed: frozenset[str] = frozenset()) -> list[Problem]:
    """Problems across definitions; names in `failed` (definitions already reported) count as known."""
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
        problems += _check_source(project, source, sources)
    problems += _source_cycles(project, sources)
    metrics = {m.name: m for m in project.metrics}
    for metric in project.metrics:
        problems += _check_metric(metric, sources, metrics, failed)
    problems += _metric_cycles(project.metrics, metrics)
    engine_path = project.config.engine.path
    if engine_path and not (project.root / engine_path).exists():
        problems.append(Problem("accord.yml", 0, 0, f"engine path '{engine_path}' does not exist. "
                                "fix engine.path or remove it to use an in-memory DuckDB"))
    return problems


def sql_source_tables(source: Source) -> tuple[str, ...]:
    tree = fragment(source.sql)
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    return tuple(sorted({t.name for t in tree.find_all(exp.Table) if t.name not in ctes and t.name}))


def _check_source(project: Project, source: Source, sources: dict[str, Source]) -> list[Problem]:
    out: list[Problem] = []
    what = f"source '{source.name}'"
    if source.path:
        fmt = file_format(source.path)
        if fmt is None:
            out.append(_at(source, "path", f"{what}: '{source.path}' is not a csv, parquet or json file. "
                                           "use one of .csv .tsv .parquet .json .jsonl"))
        elif not (project.root / source.path).is_file():
            out.append(_at(source, "path", f"{what}: data file '{source.path}' does not exist. paths are "
                                           "relative to the project folder"))
    if source.sql:
        try:
            tree = parse_fragment_statement(source.sql)
        except FragmentError as e:
            out.append(_at(source, "sql", f"{what}: sql {e}", e.col))
            return out
        if not isinstance(tree, exp.Query):
            out.append(_at(source, "sql", f"{what}: sql must be one SELECT. write SELECT … FROM other sources"))
            return out
        for name in sql_source_tables(source):
            if name not in sources and did_you_mean(name, sources):
                out.append(_at(source, "sql", f"{what}: sql reads '{name}', which is not a source."
                                              f"{did_you_mean(name, sources)}"))
    return out


def parse_fragment_statement(text: str) -> exp.Expression:
    """A `sql:` source: exactly one SELECT; anything that writes is refused before it runs."""
    import sqlglot
    from sqlglot.errors import ParseError
    try:
        trees = [t for t in sqlglot.parse(text, read="duckdb") if t is not None]
    except ParseError as e:
        err = e.errors[0] if e.errors else {}
        raise FragmentError(f"is not valid SQL ({err.get('description', e)}). fix the query", err.get("col", 0))
    if len(trees) != 1:
        raise FragmentError(f"holds {len(trees)} statements. write exactly one SELECT, no ';'")
    for node in trees[0].walk():
        if isinstance(node, (exp.DDL, exp.DML, exp.Command, exp.Set, exp.Pragma, exp.Copy, exp.Transaction)):
            raise FragmentError(f"contains a {node.key.upper()} statement. a source only reads: write one SELECT")
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
                  failed: frozenset[str] = frozenset()) -> list[Problem]:
    out: list[Problem] = []
    what = f"metric '{m.name}'"
    if m.kind == "simple":
        if m.source in failed and m.source not in sources:
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
            out.append(_at(m, "measure", f"{what}: measure {e}", e.col))
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
                    out.append(_at(m, f"{side}.{i}.sql", f"{what}: {side} clause '{clause.name}' {e}", e.col))
    elif m.kind == "ratio":
        for part in ("numerator", "denominator"):
            ref = getattr(m.ratio, part)
            if ref not in metrics and ref not in failed:
                out.append(_at(m, f"ratio.{part}", f"{what}: ratio {part} '{ref}' is not a metric."
                                                   f"{did_you_mean(ref, metrics)} define it or fix the name"))
    else:
        try:
            for ref in check_formula(fragment(m.formula)):
                if ref not in metrics and ref not in failed:
                    out.append(_at(m, "formula", f"{what}: formula names '{ref}', which is not a metric."
                                                 f"{did_you_mean(ref, metrics)} define it or fix the name"))
        except FragmentError as e:
            out.append(_at(m, "formula", f"{what}: formula {e}", e.col))
    return out


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
