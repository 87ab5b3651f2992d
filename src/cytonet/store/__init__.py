"""Stored results: the run store of a population (Parquet partitions, manifest, DuckDB views)."""
