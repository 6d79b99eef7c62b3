"""Parse, check and normalize the SQL fragments users write in definitions (sqlglot ASTs)."""
