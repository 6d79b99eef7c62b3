"""`python -m bench [NAME …]`: generate each benchmark's data if needed, run it, print the figures.

With no name, every benchmark runs: compute, then the others found in this package.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = ("compute", "touchpoints", "bridge", "web", "postgres", "spark", "arbiter")
# benchmarks that live in a module of another name: name -> (module, function)
ENTRIES = {"postgres": ("engines", "run_postgres"), "spark": ("engines", "run_spark")}


def main(argv: list[str] | None = None) -> int:
    found = [b for b in BENCHMARKS if (HERE / f"{ENTRIES.get(b, (b,))[0]}.py").is_file()]
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"benchmarks to run: {', '.join(found)} (default: all)")
    parser.add_argument("--runs", type=int, default=5, help="runs per contender; the best is kept (default 5)")
    parser.add_argument("--compute-rows", type=int, help="rows in the compute benchmark's source (default 20M)")
    parser.add_argument("--only", nargs="+", metavar="CONTENDER", choices=("accord", "a", "b", "floor", "start"),
                        help="compute benchmark: time only these contenders (accord, a, b, floor, start)")
    parser.add_argument("--engine-rows", type=int,
                        help="rows in the postgres and spark benchmarks' source (default 5M and 20M)")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in found]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(found)}")

    def log(msg: str) -> None:
        print(msg, flush=True)

    for name in args.names or found:
        module_name, function = ENTRIES.get(name, (name, "run"))
        run = getattr(importlib.import_module(f"bench.{module_name}"), function)
        options = {"runs": args.runs, "log": log}
        if name in ENTRIES and args.engine_rows:
            options["rows"] = args.engine_rows
        if name == "compute":
            options["only"] = args.only
            if args.compute_rows:
                options["rows"] = args.compute_rows
        run(HERE / "data", **options)
        log("")
    return 0


if __name__ == "__main__":
    sys.exit(main())
