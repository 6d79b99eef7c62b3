"""What every command of the command line shares: a user error is one line per problem on stderr, exit 2.

Both `accord/cli.py` and `accord/workshop/cli.py` (the `workshop` commands) wrap their commands with
`user_errors`; everything else they share is in `accord.app`.
"""
from __future__ import annotations

import functools
import sys

import typer


def fail(lines: list[str], code: int = 2) -> None:
    """Print each line on stderr and leave with `code`."""
    for line in lines:
        print(line, file=sys.stderr)
    raise typer.Exit(code)


def user_errors(fn):
    """User errors become one line per problem on stderr and exit code 2; bugs keep their traceback."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from accord.engine import EngineError, EngineQueryError
        from accord.errors import UserError
        try:
            return fn(*args, **kwargs)
        except UserError as e:
            fail(e.lines())
        except (EngineError, EngineQueryError) as e:   # one the command did not place in the YAML
            fail([f"accord.yml: the engine refused a query: {e}. check the engine and the sources"])
    return wrapper
