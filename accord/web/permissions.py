"""Who may do what. Pure functions of the signed-in person, the project and the thing acted on.

viewer < member < facilitator < admin. A member edits only their own team's pre-work; facilitators (and
admins) record decisions; a decision's owner or the metric's owner approves a changed definition; a finding's
owner (or the lead of a team it names) accepts it; admins manage accounts. Viewers read.
"""
from __future__ import annotations

from dataclasses import dataclass

from accord.visibility import same_person

RANK = {"viewer": 0, "member": 1, "facilitator": 2, "admin": 3}


@dataclass(frozen=True)
class Person:
    email: str
    role: str
    teams: tuple[str, ...]
    csrf: str = ""

    def at_least(self, role: str) -> bool:
        return RANK.get(self.role, -1) >= RANK[role]


def may_edit_prework(person: Person, team: str) -> bool:
    return person.at_least("member") and team in person.teams


def may_see_answers(person: Person, submitted_teams: set[str]) -> bool:
    """Others' pre-work shows after one's own team has submitted; facilitators see it all (it is their kit)."""
    return person.at_least("facilitator") or bool(set(person.teams) & submitted_teams)


def may_decide(person: Person) -> bool:
    return person.at_least("facilitator")


def may_approve(person: Person, project, metric: str) -> bool:
    """Every decision naming the metric lets this person approve: its owner or the metric's owner."""
    from accord.workshop.approve import approvers
    if not person.at_least("member") or not project.has_metric(metric):
        return False
    decisions = [d for d in project.decisions if any(u.metric == metric for u in d.canonical + d.alternates)]
    return bool(decisions) and all(any(same_person(person.email, a) for a in approvers(project, d, metric))
                                   for d in decisions)


def may_accept(person: Person, project, finding) -> bool:
    if not person.at_least("member"):
        return False
    if same_person(person.email, finding.owner):
        return True
    leads = {t.name for t in project.teams if same_person(t.lead, person.email)}
    return bool(leads & set(finding.teams))


def may_see_records(person: Person, teams: set[str]) -> bool:
    """Example records of a bridge (customer data): members of the teams owning them, facilitators, admins."""
    return person.at_least("facilitator") or bool(set(person.teams) & teams)


def may_admin(person: Person) -> bool:
    return person.role == "admin"
