"""Benchmarks: `make bench` runs bench/run.py. Nothing here is imported by the portal itself."""
