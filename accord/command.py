"""What every command of the command line shares: a user error is one line per problem on stderr, exit 2;
Ctrl-C is exit 130; output cut short by its reader (`| head`) ends quietly, exit 0.

Both `accord/cli.py` and `accord/workshop/cli.py` (the `workshop` commands) wrap their commands with
`user_errors`; everything else they share is in `accord.app`.
"""
from __future__ import annotations

import functools
import sys

import typer


def _plain_help() -> None:
    """Help as click writes it: `accord diff [OPTIONS] REV`, `--format FORMAT`.

    Typer 0.2x writes a required argument as `{REV}`, adds its type (`REV <str>`) and shows an option
    without a metavar by its Python type (`--for <list[str]>`). Arguments are shown by their metavar
    alone here, and such options by their name in capitals.
    """
    try:
        from typer.core import TyperArgument, TyperOption
    except ImportError:        # an older typer: click's own help
        return

    def usage(self) -> str:
        name = self.display_name_raw if self.required else f"[{self.display_name_raw}]"
        return name + ("..." if self.nargs != 1 else "")

    def option_type(self, ctx) -> str:
        if self.metavar is not None:
            return self.metavar
        return (self.name or "value").strip("_").upper().replace("_", "-") + ("..." if self.nargs != 1 else "")

    if hasattr(TyperArgument, "_usage_display_name"):
        TyperArgument._usage_display_name = usage
    if hasattr(TyperArgument, "display_type_rich"):
        TyperArgument.display_type_rich = lambda self, ctx: None
    if hasattr(TyperOption, "display_type_rich"):
        TyperOption.display_type_rich = option_type


_plain_help()


def deliver(text: str, out: "Path | None" = None, html: bool = False) -> None:
    """A command's whole output to stdout, or to the file --out names (written atomically, its path
    printed). An HTML page is not poured into a terminal: it needs --out or a redirect."""
    if out is None:
        if html and sys.stdout.isatty():
            from accord.errors import UserError
            raise UserError("this is an HTML page: give --out FILE (such as --out page.html), "
                            "or redirect it: > page.html")
        sys.stdout.write(text)
        return
    from accord.project.atomic import write_file
    print(f"wrote {write_file(out, text)}")


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
