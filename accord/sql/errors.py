"""The one error of the SQL floor: a fragment refused, with where inside it."""
from __future__ import annotations


class FragmentError(ValueError):
    """A fragment that is not one valid expression, or that reads what it may not; `col` is 1-based inside the
    fragment's `line` (1-based), 0 if unknown."""

    def __init__(self, message: str, col: int = 0, line: int = 1):
        super().__init__(message)
        self.col = col
        self.line = line
