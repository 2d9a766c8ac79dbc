"""Serving model versions from the web process (the predict API).

TensorFlow is imported on the first prediction, never at start-up; loaded models are
kept in a small per-process cache keyed by version and artifact checksum.
"""
