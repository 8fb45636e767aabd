"""Benchmarks for Hearth (`make bench`, `make bench-smoke`). Timings live here, never in unit tests.

`python -m bench.run --persons N` builds a bench-only database (SQLite in var/bench/, or the PostgreSQL
database named by DATABASE_URL / --db-url), fills it with N persons and prints a table of figures.
"""
