"""Benchmarks: run as modules (`.venv/bin/python -m bench.matching`); see bench/README.md."""
