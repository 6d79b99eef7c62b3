"""Definitions from dbt's semantic layer, LookML and Cube into accord, and accord's metrics out to dbt."""
