"""Sending the day's digests at most once per person per day.

For each person: claim the (person, day) row in the store, hand the message to the SMTP server, mark it sent.
A server that is down or busy is tried again with a growing pause; one that refuses is a failure line for that
person, recorded as failed (nothing was delivered, so a later run may try again). A run that dies between the
claim and the mark leaves the row "sending": its delivery is unknown, and every later run lists it and never
sends it again. The claim is the guard when several processes send at once.
"""
from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Callable

from accord.mail import Connection, MailError, Refused, Unavailable, Unknown
from accord.morning.content import Digest
from accord.store import digests as sent_store

TRIES = 3           # attempts per message (and per connection) before a person is a failure
PAUSE = 1.0         # seconds before the second attempt; doubled before each next one

# A test hook: kill this process (SIGKILL, no cleanup) right after the server accepted the Nth message of the
# run and before it is marked sent: a crash at the worst moment, to prove a rerun never sends it again.
KILL_AFTER = "ACCORD_TEST_KILL_AFTER_ACCEPTED"


@dataclass
class Outcome:
    """What a run did: sent, skipped as already sent, failed (person, reason) and unknown (person, day, since)."""

    sent: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    unknown: list[tuple[str, str, str]] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)      # being sent by another process right now

    def lines(self) -> list[str]:
        """One line per recipient that failed and per delivery whose outcome is unknown."""
        out = [f"{person}: not sent: {reason}" for person, reason in self.failed]
        out += [f"{person}: delivery of the digest of {day} is unknown: sending began at {since} and was never "
                "confirmed (a run stopped during it). not sent again; check the mailbox" for person, day, since
                in self.unknown]
        return out


def send_all(db, smtp, sender: str, digests: list[Digest], render: Callable[[Digest], EmailMessage],
             tries: int = TRIES, pause: float = PAUSE, connection: Connection | None = None) -> Outcome:
    """Send each digest not yet sent for its day; see the module's docstring."""
    out = Outcome()
    days = {d.day.isoformat() for d in digests}
    for r in sent_store.unknown(db):        # the days this run sends: an older day's is not news any more
        if r.day in days:
            out.unknown.append((r.person, r.day, r.started_at))
    listed = {(p, day) for p, day, _ in out.unknown}
    conn = connection or Connection(smtp)
    kill_after = int(os.environ.get(KILL_AFTER, "0") or 0)
    accepted = 0
    try:
        for i, d in enumerate(digests):
            day = d.day.isoformat()
            if (d.person, day) in listed:
                continue
            problem = _open(conn, tries, pause)
            if problem is not None:      # the server cannot be reached: nobody left is sent, nobody is claimed
                out.failed += [(x.person, problem) for x in digests[i:] if (x.person, x.day.isoformat()) not in listed]
                break
            msg = render(d)
            ok, record = sent_store.claim(db, d.person, day, msg["Message-ID"], d.memo)
            if not ok:
                if record.state == sent_store.SENT:
                    out.already.append(d.person)
                elif record.claimed_by == sent_store.claimant():
                    out.busy.append(d.person)
                else:
                    out.unknown.append((d.person, day, record.started_at))
                continue
            error = _deliver(conn, msg, sender, d.person, tries, pause)
            if isinstance(error, Unknown):
                out.unknown.append((d.person, day, "now"))      # left "sending": never resent
                continue
            if error is not None:
                sent_store.finish(db, d.person, day, str(error))
                out.failed.append((d.person, str(error)))
                continue
            accepted += 1
            if kill_after and accepted >= kill_after:
                os.kill(os.getpid(), signal.SIGKILL)
            sent_store.finish(db, d.person, day)
            out.sent.append(d.person)
    finally:
        conn.close()
    return out


def _open(conn: Connection, tries: int, pause: float) -> str | None:
    for attempt in range(tries):
        try:
            conn.ensure()
            return None
        except Refused as e:
            return str(e)
        except Unavailable as e:
            if attempt == tries - 1:
                return f"{e}, after {tries} tries"
            time.sleep(pause * 2 ** attempt)
    return None


def _deliver(conn: Connection, msg: EmailMessage, sender: str, to: str, tries: int, pause: float) -> MailError | None:
    for attempt in range(tries):
        try:
            conn.send(msg, sender, to)
            return None
        except (Refused, Unknown) as e:
            return e
        except Unavailable as e:
            if attempt == tries - 1:
                return Unavailable(f"{e}, after {tries} tries")
            time.sleep(pause * 2 ** attempt)
    return None
