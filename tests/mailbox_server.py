"""A real SMTP server for tests: aiosmtpd on a free local port, keeping what it receives.

    from mailbox_server import serve
    with serve() as box:                   # box.port, box.received [(recipients, bytes)], box.refuse
        ...
`box.refuse` holds recipients refused at RCPT with 550; `box.busy` makes every RCPT answer 451 (try later).
"""
from __future__ import annotations

import socket
import threading
from contextlib import contextmanager
from typing import Iterator

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Box:
    def __init__(self):
        self.received: list[tuple[list[str], bytes]] = []
        self.refuse: set[str] = set()
        self.busy = False
        self.port = 0
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self.received.clear()
        self.refuse = set()
        self.busy = False

    def to(self, person: str) -> int:
        """How many messages `person` received."""
        return sum(1 for rcpts, _ in self.received if person in rcpts)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.busy:
            return "451 4.3.2 try again later"
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.received.append((list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 2.0.0 accepted"


@contextmanager
def serve() -> Iterator[Box]:
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        pytest.skip("aiosmtpd is not installed (pip install -e '.[test]')")
    box = Box()
    box.port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
