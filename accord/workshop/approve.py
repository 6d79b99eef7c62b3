"""`accord workshop approve METRIC --by EMAIL`: accept a metric's changed definition into its decision.

Only the decision's owner or the metric's owner may approve. The recorded fingerprint becomes the current
one and an approval is appended, so the change and who let it through stay on record.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml.comments import CommentedMap

from accord.errors import UserError, did_you_mean
from accord.project.fingerprint import fingerprint
from accord.project.model import Decision, Project
from accord.workshop.record import block_map, block_seq, set_key, write_decision


@dataclass
class Approved:
    path: Path
    decision: str
    metric: str
    old_fingerprint: str | None
    fingerprint: str
    changed: bool        # False: the recorded fingerprint already matched; nothing was written


def _same(a: str | None, b: str | None) -> bool:
    return bool(a and b) and a.strip().lower() == b.strip().lower()


def approvers(project: Project, decision: Decision, metric: str) -> list[str]:
    m = project.metric(metric)
    return sorted({decision.owner} | ({m.owner} if m.owner else set()))


def approve(project: Project, metric: str, by: str, today: dt.date) -> list[Approved]:
    """Approve `metric`'s current definition in every decision that names it; refused for anyone else."""
    if not project.has_metric(metric):
        raise UserError(f"metric '{metric}' is not defined.{did_you_mean(metric, [m.name for m in project.metrics])}")
    decisions = [d for d in project.decisions if any(u.metric == metric for u in d.canonical + d.alternates)]
    if not decisions:
        raise UserError(f"no decision names '{metric}', so there is nothing to approve. record one with "
                        "accord workshop decide LABEL --canonical METRIC --owner EMAIL")
    for d in decisions:
        allowed = approvers(project, d, metric)
        if not any(_same(by, a) for a in allowed):
            raise UserError(f"{by} may not approve changes to '{metric}' in the decision on '{d.label}': only "
                            f"{' or '.join(allowed)} may. ask one of them to run accord workshop approve "
                            f"{metric} --by EMAIL")
    now = fingerprint(project, project.metric(metric))
    out = []
    for d in decisions:
        recorded = next(u.fingerprint for u in d.canonical + d.alternates if u.metric == metric)
        path = project.root / d.location.file
        if recorded == now:
            out.append(Approved(path, d.label, metric, recorded, now, False))
            continue

        def change(item: CommentedMap | None, d=d) -> CommentedMap:
            for group in ("canonical", "alternates"):
                for entry in item.get(group) or []:
                    if isinstance(entry, dict) and entry.get("metric") == metric:
                        entry["fingerprint"] = now
            approval = block_map([("metric", metric), ("by", by), ("on", today), ("fingerprint", now)])
            if item.get("approvals") is None:
                set_key(item, "approvals", block_seq([approval]))
            else:
                item["approvals"].append(approval)
            return item

        write_decision(path, d.location.file, d.label, project.settings.synonyms, change)
        out.append(Approved(path, d.label, metric, recorded, now, True))
    return out
