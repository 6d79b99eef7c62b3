"""`python -m bench`: generate the benchmark data if needed, run the benchmarks, print the figures."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench import compute, generate

DATA = Path(__file__).resolve().parent / "data"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--rows", type=int, default=generate.ROWS, help="rows in the generated source (default 20M)")
    parser.add_argument("--runs", type=int, default=3, help="runs per contender; the best is kept (default 3)")
    parser.add_argument("--only", nargs="+", metavar="NAME", choices=("accord", "a", "b", "floor", "start"),
                        help="time only these contenders (accord, a, b, floor, start)")
    args = parser.parse_args(argv)
    compute.run(DATA, args.rows, args.runs, args.only, log=lambda msg: print(msg, flush=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
