"""Errors: user errors (bad input, exit 2, one line per problem) and internal errors (bugs)."""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable


INTERRUPTED = 130   # the exit code of a command ended by Ctrl-C, as shells give it (128 + SIGINT)
INTERRUPTED_LINE = "interrupted (Ctrl-C). no file was left half-written"


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
        # one line per problem, whatever the YAML held (a name written as a block of text)
        return f"{where}: {self.message}".replace("\r", "\\r").replace("\n", "\\n")


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
    """' Did you mean 'x'?' for a near choice, or ''.

    Near: similar by difflib's ratio (0.6 and up) and at most two edits away, or very similar (0.75 and up),
    so 'add' suggests 'ads' but 'churned_arr' does not suggest 'new_arr'.
    """
    word = str(word)
    for candidate in difflib.get_close_matches(word, sorted(set(map(str, choices))), n=3, cutoff=0.6):
        ratio = difflib.SequenceMatcher(None, word, candidate).ratio()
        if ratio >= 0.75 or _edits(word.lower(), candidate.lower()) <= 2:
            return f" Did you mean '{candidate}'?"
    return ""


def _edits(a: str, b: str) -> int:
    """Levenshtein distance (the words are short)."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]
