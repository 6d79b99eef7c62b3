"""`accord` and `python -m accord`: Ctrl-C while the command line itself is still loading is one line too."""
from __future__ import annotations

import sys


def main() -> None:
    try:
        from accord.cli import main as run
    except KeyboardInterrupt:
        from accord.errors import INTERRUPTED, INTERRUPTED_LINE
        print(INTERRUPTED_LINE, file=sys.stderr)
        sys.exit(INTERRUPTED)
    run()


if __name__ == "__main__":
    main()
