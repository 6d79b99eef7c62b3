"""The project as frozen models: sources, metrics, teams, handoffs, decisions, contact policy, accepts.

The models know nothing of SQL engines. Each carries the `location` (file, line) it was defined at,
so every finding and error can point at YAML.
"""
from __future__ import annotations

import datetime as dt
import re
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from accord.findings import Location

CONFIG_FILE = "accord.yml"
from accord.project.durations import parse_duration, parse_time_limit
from accord.project.settings import Freshness, Grain, Settings

NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
SNAKE = r"^[a-z][a-z0-9_]*$"
MEMORY = re.compile(r"^\s*\d+(\.\d+)?\s*(%|[KMGT]i?B)\s*$", re.IGNORECASE)


class Model(BaseModel):
    # defer_build: a model's validator is built when first used, so a project without decisions, rules or
    # a contact policy never pays for theirs
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True,
                              arbitrary_types_allowed=True, defer_build=True)


class Located(Model):
    """A definition that remembers where it was written: its item line and each value's (line, col)."""

    location: Location = Field(default=Location("", 0), exclude=True, repr=False)
    positions: dict[str, tuple[int, int]] = Field(default_factory=dict, exclude=True, repr=False)

    def __hash__(self) -> int:  # `positions` is a dict; where and what a definition is identifies it
        return hash((type(self).__name__, self.location, getattr(self, "name", None)))

    def at(self, key: str) -> Location:
        """The location of a value inside this definition (`measure`, `include.0.sql`), else the item's."""
        pos = self.positions.get(key)
        return Location(self.location.file, pos[0]) if pos else self.location


def _and(words: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _duration(v: str | None) -> str | None:
    if v is not None:
        parse_duration(v)
    return v


# ---------------------------------------------------------------- sources and metrics

class Source(Located):
    name: str = Field(pattern=NAME)
    system: str | None = None
    owner: str | None = None
    description: str | None = None
    path: str | None = None
    table: str | None = None
    sql: str | None = None
    entity: str | None = None
    key: str | None = None
    time: str | None = None
    freshness: Freshness | None = None    # overrides settings.freshness, key by key
    imported_from: str | None = None        # `<tool>:<name>` when `accord import` wrote it

    @field_validator("path", "table", "sql")
    @classmethod
    def _not_empty(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            raise ValueError("is empty. write a value after the key, or remove the key")
        return v

    @model_validator(mode="after")
    def _one_origin(self):
        given = [k for k in ("path", "table", "sql") if getattr(self, k)]
        if len(given) != 1:
            has, todo = (f"it has {_and(given)}", "keep one") if given else ("it has none", "give one")
            raise ValueError(f"needs exactly one of path, table or sql; {has}. {todo}: path (a csv, parquet "
                             "or json file), table (a table in the engine) or sql (one SELECT over other sources)")
        return self

    @property
    def origin(self) -> str:
        return "path" if self.path else "table" if self.table else "sql"


class Clause(Model):
    name: str
    sql: str


class Target(Model):
    direction: Literal["up", "down"]
    value: float
    period: Grain = "quarter"


class Parent(Model):
    metric: str
    effect: Literal["raises", "lowers"] = "raises"
    lag: str = "0w"

    _lag = field_validator("lag")(_duration)


class Ratio(Model):
    numerator: str
    denominator: str


Level = Literal["company", "function", "role"]
LEVELS: tuple[str, ...] = ("company", "function", "role")


class Metric(Located):
    name: str = Field(pattern=SNAKE)
    label: str | None = None
    team: str
    level: Level
    owner: str | None = None
    description: str | None = None
    decision: str | None = None
    unit: str | None = None
    source: str | None = None
    measure: str | None = None
    time: str | None = None
    include: tuple[Clause, ...] | None = None
    exclude: tuple[Clause, ...] | None = None
    ratio: Ratio | None = None
    formula: str | None = None
    confidence: Literal["directional", "decision-grade", "board-grade"] | None = None
    caveats: tuple[str, ...] = ()
    status: Literal["canonical", "alternate", "proposed", "deprecated"] | None = None
    target: Target | None = None
    parents: tuple[Parent, ...] = ()
    visible_to: tuple[str, ...] | None = None   # teams that may see its values (web app); None: everyone
    imported_from: str | None = None        # `<tool>:<name>` when `accord import` wrote it
    imported_fingerprint: str | None = None  # the tool's definition when imported, for import-drift

    @model_validator(mode="after")
    def _one_kind(self):
        kinds = [k for k, on in (("measure", self.measure is not None), ("ratio", self.ratio is not None),
                                 ("formula", self.formula is not None)) if on]
        if not kinds:
            raise ValueError("has none of measure, ratio and formula. give one: a measure (with source), "
                             "a ratio or a formula")
        if len(kinds) > 1:
            raise ValueError(f"has {_and(kinds)}. keep one of them: a metric is a measure (with source), "
                             "a ratio or a formula")
        if self.measure is not None and not self.source:
            raise ValueError("has a measure but no source. add source: with the source it aggregates")
        if self.measure is None:
            stray = [k for k in ("source", "time", "include", "exclude") if getattr(self, k) is not None]
            if stray:
                one = len(stray) == 1
                raise ValueError(f"is a {kinds[0]} metric, so {_and(stray)} {'does' if one else 'do'} not apply. "
                                 f"remove {'it' if one else 'them'}: a {kinds[0]} metric reads its data through "
                                 "the metrics it names")
        return self

    @property
    def kind(self) -> str:
        return "simple" if self.measure is not None else "ratio" if self.ratio else "formula"

    @property
    def display_label(self) -> str:
        return self.label or self.name

    @property
    def clauses(self) -> tuple[Clause, ...]:
        return tuple(self.include or ()) + tuple(self.exclude or ())


# ---------------------------------------------------------------- teams and handoffs

class Team(Located):
    name: str
    function: str | None = None
    lead: str | None = None
    members: tuple[str, ...] = ()
    description: str | None = None


class Handoff(Located):
    from_team: str = Field(alias="from")
    to_team: str = Field(alias="to")
    what: str | None = None


# ---------------------------------------------------------------- decisions

class DecidedMetric(Model):
    metric: str
    for_: tuple[str, ...] = Field(default=(), alias="for")
    rename_to: str | None = None
    fingerprint: str | None = None


class FollowUp(Model):
    task: str
    owner: str | None = None
    due: dt.date | None = None
    done: bool = False


class Approval(Model):
    metric: str
    by: str
    on: dt.date
    fingerprint: str | None = None


class Decision(Located):
    label: str
    decided_on: dt.date
    owner: str
    canonical: tuple[DecidedMetric, ...] = ()
    alternates: tuple[DecidedMetric, ...] = ()
    caveats: tuple[str, ...] = ()
    unresolved: tuple[str, ...] = ()
    follow_ups: tuple[FollowUp, ...] = ()
    approvals: tuple[Approval, ...] = ()
    review_every: Literal["month", "quarter", "year"] | None = None


# ---------------------------------------------------------------- contact policy

class Touch(Model):
    source: str
    team: str
    time: str
    customer: str | None = None
    channel: str | None = None     # a column of the source, or `other_source.column` looked up by its key
    subject: str | None = None     # the same: what the customer received (subject, campaign name, title)


class Period(Model):
    source: str
    opened: str
    resolved: str | None = None
    customer: str | None = None


class State(Period):
    name: str


class Outcome(Model):
    source: str
    time: str
    customer: str | None = None


class Quiet(Model):
    from_: str = Field(alias="from", pattern=r"^\d{1,2}:\d{2}$")
    to: str = Field(pattern=r"^\d{1,2}:\d{2}$")


class Rule(Located):
    name: str
    max_touches: int | None = Field(default=None, ge=1)
    within: str | None = None
    teams: tuple[str, ...] | None = None
    block_teams: tuple[str, ...] | None = None
    while_: str | None = Field(default=None, alias="while")
    quiet: Quiet | None = None

    _within = field_validator("within")(_duration)

    @model_validator(mode="after")
    def _one_kind(self):
        kinds = [k for k, on in (("cap", self.max_touches is not None), ("block", self.block_teams is not None),
                                 ("quiet", self.quiet is not None)) if on]
        if len(kinds) != 1:
            found = f"it is {_and(kinds)} at once" if kinds else "it is none of them"
            raise ValueError(f"must be one kind of rule; {found}. write a cap (max_touches + within), a block "
                             "(block_teams + while) or quiet hours (quiet: {from, to})")
        if self.max_touches is not None and not self.within:
            raise ValueError("is a cap without a time window. add within:, such as 48h")
        if self.block_teams is not None and not self.while_:
            raise ValueError("is a block without a state. add while:, the state during which it blocks, "
                             "such as open_case")
        return self

    @property
    def kind(self) -> str:
        return "cap" if self.max_touches is not None else "block" if self.block_teams is not None else "quiet"


class ContactPolicy(Located):
    customer: str
    touches: tuple[Touch, ...] = Field(min_length=1)
    cases: Period | None = None
    states: tuple[State, ...] = ()
    outcome: Outcome | None = None
    rules: tuple[Rule, ...] = ()
    mode: Literal["enforce", "shadow"] = "enforce"     # the arbiter: shadow answers allow, recording what it would hold


# ---------------------------------------------------------------- accepted findings

class Accept(Located):
    code: str
    metrics: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    owner: str
    reason: str
    until: dt.date


# ---------------------------------------------------------------- the project

_ENGINE_KEYS = {"duckdb": ("path",), "postgres": ("dsn", "dsn_env"), "spark": ("master", "remote"),
                "dbt": ("profiles_dir", "profile", "target")}


class EngineConfig(Model):
    """Where the data are. Credentials never live here: a DSN without a password (libpq's PGPASSWORD or
    ~/.pgpass supply it), or the name of an environment variable holding one."""

    type: Literal["duckdb", "postgres", "spark", "dbt"] = "duckdb"
    path: str | None = None
    memory_limit: str = "75%"          # of the machine's memory, or an amount such as 4GB
    threads: int | None = Field(default=None, ge=1, le=4096)   # default: every core
    timeout: str = "10m"               # a query running longer is stopped
    dsn: str | None = None
    dsn_env: str | None = None
    master: str | None = None
    remote: str | None = None
    profiles_dir: str | None = None
    profile: str | None = None
    target: str | None = None
    line: int = Field(default=0, exclude=True, repr=False)

    @field_validator("memory_limit")
    @classmethod
    def _memory(cls, v: str) -> str:
        if not MEMORY.match(v):
            raise ValueError(f"'{v}' is not an amount of memory. write a share of the machine's memory such as "
                             "75%, or an amount such as 4GB or 512MB")
        if v.strip().endswith("%") and not 0 < float(v.strip()[:-1]) <= 100:
            raise ValueError(f"'{v}' is not a share between 0% and 100%. write such as 75%")
        amount = re.match(r"\s*([\d.]+)\s*([KMGT])", v, re.IGNORECASE)
        if amount and float(amount.group(1)) * 1024 ** "KMGT".index(amount.group(2).upper()) > 1024 ** 4:
            raise ValueError(f"'{v}' is more memory than a machine has. write at most 1024TB, or a share such as 75%")
        return v

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, v: str) -> str:
        parse_time_limit(v)
        return v

    @field_validator("dsn")
    @classmethod
    def _no_password(cls, v: str | None) -> str | None:
        if v is not None and re.search(r"(^|\s)password\s*=|://[^/@\s]*:[^/@\s]*@", v, re.IGNORECASE):
            raise ValueError("holds a password, which must never be written in YAML. remove it and give it "
                             "in PGPASSWORD or ~/.pgpass, or use dsn_env: a variable holding the whole DSN")
        return v

    @model_validator(mode="after")
    def _keys_of_its_type(self):
        given = [k for keys in _ENGINE_KEYS.values() for k in keys if getattr(self, k) is not None]
        other = [k for k in given if k not in _ENGINE_KEYS[self.type]]
        if other:
            raise ValueError(f"type {self.type} takes {' or '.join(_ENGINE_KEYS[self.type])}, not "
                             f"{_and(other)}. remove {_and(other)} or change the type")
        if self.type == "postgres" and (self.dsn is None) == (self.dsn_env is None):
            raise ValueError("type postgres needs exactly one of dsn (no password in it) or dsn_env (the name "
                             "of an environment variable holding the DSN)")
        if self.type == "spark" and self.master is not None and self.remote is not None:
            raise ValueError("type spark takes master (a local or cluster session) or remote (Spark Connect), "
                             "not both. keep one")
        if self.type == "dbt" and not self.profile:
            raise ValueError("type dbt needs profile: the name of a profile in profiles.yml (and optionally "
                             "target and profiles_dir)")
        return self


class ServeConfig(Model):
    """`serve:` in accord.yml: how `accord serve` runs."""

    base_url: str | None = None                  # https://… makes cookies Secure; sign-in links use it
    git: Literal["commit", "branch", "off"] = "commit"   # web writes: commit, one branch each, or no git
    cache_ttl: str = "15m"                       # cached results on engines whose data changes without a file

    @field_validator("cache_ttl")
    @classmethod
    def _ttl(cls, v: str) -> str:
        ttl_seconds(v)
        return v


def ttl_seconds(text: str) -> int:
    """'15m', '2h', '1d' in seconds."""
    import re
    m = re.fullmatch(r"\s*(\d+)\s*([mhd])\s*", str(text))
    if not m or int(m.group(1)) == 0:
        raise ValueError(f"'{text}' is not a duration of minutes, hours or days. write such as 15m, 2h or 1d")
    return int(m.group(1)) * {"m": 60, "h": 3600, "d": 86400}[m.group(2)]


EMAIL = re.compile(r"^[^@\s<>\"']+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


def _email(v: str) -> str:
    if not EMAIL.match(v.strip()):
        raise ValueError(f"'{v}' is not an email address. write one such as metrics@acme.example")
    return v.strip()


class DigestConfig(Model):
    """`digest:` in accord.yml: the morning email (who sends it, when, to whom)."""

    at: str = "06:00"                             # local time in settings.timezone
    from_: str | None = Field(default=None, alias="from")
    leaders: tuple[str, ...] = ()                 # get the company numbers and the top items
    always: bool = False                          # send even when there is nothing to say
    allowed_domains: tuple[str, ...] | None = None   # default: the domains of the team leads

    @field_validator("at")
    @classmethod
    def _at(cls, v: str) -> str:
        m = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", str(v).strip())
        if not m:
            raise ValueError(f"'{v}' is not a time of day. write HH:MM in settings.timezone, such as \"06:00\"")
        return f"{int(m.group(1)):02d}:{m.group(2)}"

    @field_validator("from_")
    @classmethod
    def _from(cls, v: str | None) -> str | None:
        return None if v is None else _email(v)

    @field_validator("leaders")
    @classmethod
    def _leaders(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_email(e).lower() for e in v)

    @field_validator("allowed_domains")
    @classmethod
    def _domains(cls, v):
        if v is None:
            return v
        out = []
        for d in v:
            d = str(d).strip().lower().lstrip("@")
            if not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", d):
                raise ValueError(f"'{d}' is not a mail domain. write domains such as acme.example")
            out.append(d)
        return tuple(out)


class SmtpConfig(Model):
    """`smtp:` in accord.yml: the server digests and sign-in links go through; credentials come only from the
    environment variables it names."""

    host: str
    port: int | None = None                       # default: 587 starttls, 465 implicit, 25 none
    tls: Literal["starttls", "implicit", "none"] = "starttls"
    user_env: str | None = None
    password_env: str | None = None
    timeout: int = 30                             # seconds per connection

    @field_validator("user_env", "password_env")
    @classmethod
    def _env_name(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", v):
            raise ValueError(f"'{v}' is not an environment variable name. name the variable that holds the "
                             "value (such as ACCORD_SMTP_USER), never the value itself")
        return v

    @field_validator("port")
    @classmethod
    def _port(cls, v: int | None) -> int | None:
        if v is not None and not 0 < v < 65536:
            raise ValueError(f"is {v}, not a port number. write the SMTP port, such as 587")
        return v

    @model_validator(mode="after")
    def _tls(self):
        if self.tls == "none" and self.host.strip().lower() not in LOCAL_HOSTS:
            raise ValueError(f"tls: none sends mail unencrypted, so it is only for a server on this machine, not "
                             f"'{self.host}'. use tls: starttls or implicit")
        if (self.user_env is None) != (self.password_env is None):
            raise ValueError("names one of user_env and password_env. give both, or neither for a server "
                             "without sign-in")
        return self

    @property
    def port_or_default(self) -> int:
        return self.port or {"starttls": 587, "implicit": 465, "none": 25}[self.tls]


class Config(Model):
    """accord.yml: the project itself, apart from definitions."""

    project: str
    engine: EngineConfig = EngineConfig()
    paths: tuple[str, ...] | None = None
    settings: Settings = Settings()  # type: ignore[valid-type]
    serve: ServeConfig = ServeConfig()
    digest: DigestConfig = DigestConfig()
    smtp: SmtpConfig | None = None


SECTIONS: dict[str, type[Located]] = {
    "sources": Source, "metrics": Metric, "teams": Team, "handoffs": Handoff,
    "decisions": Decision, "contact_policy": ContactPolicy, "accept": Accept,
}


class Project(Model):
    """A loaded, validated project folder."""

    root: Path
    config: Config
    sources: tuple[Source, ...] = ()
    metrics: tuple[Metric, ...] = ()
    teams: tuple[Team, ...] = ()
    handoffs: tuple[Handoff, ...] = ()
    decisions: tuple[Decision, ...] = ()
    contact_policy: ContactPolicy | None = None
    accept: tuple[Accept, ...] = ()
    files_read: tuple[str, ...] = ()
    files_skipped: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.config.project

    @property
    def settings(self):
        return self.config.settings

    def metric(self, name: str) -> Metric:
        return self._index("metrics")[name]

    def source(self, name: str) -> Source:
        return self._index("sources")[name]

    def team(self, name: str) -> Team | None:
        return self._index("teams").get(name)

    def label_of(self, name: str) -> str:
        """The label a metric is shown under: the `rename_to` a decision gave it as an alternate, else its own.

        Once decided, one word stops meaning several numbers: reports, the tree and the kit all call this.
        """
        for d in self.decisions:
            for a in d.alternates:
                if a.metric == name and a.rename_to:
                    return a.rename_to
        return self.metric(name).display_label if self.has_metric(name) else name

    def has_metric(self, name: str) -> bool:
        return name in self._index("metrics")

    def _index(self, section: str) -> dict:
        return self._indexes[section]

    @cached_property
    def _indexes(self) -> dict[str, dict]:
        return {s: {x.name: x for x in getattr(self, s)} for s in ("metrics", "sources", "teams")}
