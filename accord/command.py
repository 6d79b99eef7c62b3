"""What every command of the command line shares: a user error is one line per problem on stderr, exit 2;
Ctrl-C is exit 130; output cut short by its reader (`| head`) ends quietly, exit 0.

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
    """User errors become one line per problem on stderr and exit code 2; Ctrl-C exit code 130 (`accord.cli.main`
    says it in one line, also when Ctrl-C comes outside a command); a reader that stopped early (`| head -1`) a
    quiet exit 0. Bugs keep their traceback."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from accord.engine import EngineError, EngineQueryError
        from accord.errors import INTERRUPTED, UserError
        try:
            return fn(*args, **kwargs)
        except UserError as e:
            fail(e.lines())
        except (EngineError, EngineQueryError) as e:   # one the command did not place in the YAML
            fail([f"accord.yml: the engine refused a query: {e}. check the engine and the sources"])
        except (KeyboardInterrupt, typer.Abort):   # Abort: Ctrl-C at a prompt
            raise typer.Exit(INTERRUPTED) from None
        except RuntimeError as e:
            if str(e) != "Query interrupted":   # how DuckDB ends a query on Ctrl-C
                raise
            raise typer.Exit(INTERRUPTED) from None
        except BrokenPipeError:
            _reader_gone()
            raise typer.Exit(0) from None
    return wrapper


def _reader_gone() -> None:
    """stdout's reader has gone: whatever is still buffered goes nowhere, quietly."""
    import os
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
