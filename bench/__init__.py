"""Benchmarks and measurement harnesses: each script prints its figures beside a baseline."""
