"""Project settings, declared once as (name, type, default, help); the table drives validation and docs."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator, model_validator

from accord.project.durations import parse_duration

Grain = Literal["day", "week", "month", "quarter", "year"]
Duration = str | dict[str, Any]


class Freshness(BaseModel):
    """How old a source's last data may get: a warning past `warn_after`, an error past `error_after`
    (dbt's source freshness; durations `2d` or `{count: 2, period: day}`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    warn_after: Duration | None = None
    error_after: Duration | None = None

    @field_validator("warn_after", "error_after")
    @classmethod
    def _duration(cls, v):
        if v is not None:
            parse_duration(v)
        return v

    @model_validator(mode="after")
    def _in_order(self):
        if self.warn_after is not None and self.error_after is not None \
                and parse_duration(self.error_after) < parse_duration(self.warn_after):
            raise ValueError("error_after is shorter than warn_after. make error_after the longer one")
        return self

    def over(self, default: "Freshness") -> "Freshness":
        """These limits, each one not given here taken from `default`."""
        # each value was validated where it was written; merged, a source's error_after may undercut the
        # settings' warn_after, and then it is simply the limit that applies first
        return Freshness.model_construct(
            warn_after=self.warn_after if self.warn_after is not None else default.warn_after,
            error_after=self.error_after if self.error_after is not None else default.error_after)


DEFAULT_FRESHNESS = Freshness(warn_after="7d", error_after="30d")

SETTINGS: tuple[tuple[str, Any, Any, str], ...] = (
    ("as_of", "date | None", None, 'fixed "today" for reproducible reports'),
    ("timezone", str, "UTC", "day and week boundaries and quiet hours"),
    ("fiscal_year_start", int, 1, "month the fiscal year starts; quarters and years are calendar unless set"),
    ("compare_grain", Grain, "quarter", '"last complete period" for collisions, handoffs and the tree'),
    ("test_grain", Grain, "week", "series grain for contribution and trend tests"),
    ("trend_window", str, "13w", "window of the trend test"),
    ("alpha", float, 0.05, "significance level for every statistical verdict"),
    ("max_metrics_per_level", int, 5, "more metrics than this at one level of one team is a finding"),
    ("collision_spread", float, 0.10, "spread above which a label collision is an error"),
    ("handoff_gain", float, 0.10, "upstream move in its target direction that starts a handoff check"),
    ("handoff_loss", float, 0.10, "downstream move against its target direction that makes a collision"),
    ("synonyms", dict[str, list[str]], {}, "labels that mean the same word: {pipeline: [pipe, open pipeline]}"),
    ("baseline_rev", "str | None", None, "git revision that official definitions are held to"),
    ("stale_state_after", str, "90d", "a contact-policy state (an open case) still open after this long was "
     "probably never closed: a data-quality note, not the worst open case"),
    ("freshness", Freshness, DEFAULT_FRESHNESS, "how old a source's last data may get: {warn_after: 7d, "
     "error_after: 30d}; a source's own freshness: overrides it"),
    ("data_paths", list[str], [], "folders outside the project that sources may read, such as a shared lake "
                                  "folder (absolute, or relative to the project folder)"),
    ("imports", dict[str, str], {}, "folders definitions are imported from, by tool: {dbt: ../analytics}; "
                                    "written by `accord import`, read by check for import-drift"),
)


def _annotation(t: Any) -> Any:
    import datetime as dt
    return {"date | None": dt.date | None, "str | None": str | None}.get(t, t) if isinstance(t, str) else t


def _check(cls, v, info):
    name = info.field_name
    if name in ("trend_window", "stale_state_after"):
        parse_duration(v)
    elif name == "fiscal_year_start" and not 1 <= v <= 12:
        raise ValueError(f"is {v}, not a month number from 1 to 12. write the month the fiscal year starts in, "
                         "such as 4 for April")
    elif name == "alpha" and not 0 < v < 1:
        raise ValueError(f"is {v}, not between 0 and 1. write a significance level, such as 0.05")
    elif name == "timezone":
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            from accord.errors import did_you_mean
            hint = did_you_mean(v, available_timezones()) or " write an IANA name, such as Europe/Berlin"
            raise ValueError(f"'{v}' is not a known time zone.{hint}") from None
    elif name in ("max_metrics_per_level",) and v < 1:
        raise ValueError(f"is {v}; it must be at least 1. raise it")
    return v


Settings = create_model(
    "Settings",
    __config__=ConfigDict(frozen=True, extra="forbid"),
    __validators__={"_check": field_validator("trend_window", "fiscal_year_start", "alpha", "timezone",
                                              "max_metrics_per_level")(classmethod(_check))},
    **{name: (_annotation(t), Field(default=default, description=help)) for name, t, default, help in SETTINGS},
)
Settings.__doc__ = "Validated project settings (see SETTINGS)."


def resolve_today(override, settings) -> "dt.date":
    """'Today': --as-of, else settings.as_of, else the clock in the project's time zone."""
    import datetime as dt
    from zoneinfo import ZoneInfo
    return override or settings.as_of or dt.datetime.now(ZoneInfo(settings.timezone)).date()
