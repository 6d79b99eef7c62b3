"""Plan one scan per source as sqlglot ASTs, run it on an engine, and return per-period series."""
