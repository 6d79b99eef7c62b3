"""Errors: user errors (bad input, exit 2, one line per problem) and internal errors (bugs)."""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in the user's input: `file:line[:col]: what is wrong. what to do`."""

    file: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        if not self.file:
            return self.message
        where = self.file
        if self.line:
            where += f":{self.line}"
            if self.col:
                where += f":{self.col}"
        return f"{where}: {self.message}"


class AccordError(Exception):
    """Base of every error accord raises on purpose."""


class UserError(AccordError):
    """Bad input or a refused request: reported as one line per problem, exit code 2."""

    def __init__(self, problems: Iterable[Problem] | str):
        if isinstance(problems, str):
            problems = [Problem("", 0, 0, problems)]
        self.problems: list[Problem] = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]


class InternalError(AccordError):
    """A bug in accord: shown with its traceback."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' Did you mean 'x'?' for the nearest choice, or ''."""
    close = difflib.get_close_matches(str(word), sorted(set(choices)), n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else ""
