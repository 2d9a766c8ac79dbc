"""Benchmarks that drive a live Trainyard stack; run them with ``python bench/run.py``."""
