"""A small Python client for Trainyard's REST API, and the ``trainyard`` command built on it.

It needs only ``requests``: no Flask, no TensorFlow, nothing of the server.
"""
from trainyard_client.client import ApiError, ChecksumMismatch, TrainyardClient

__all__ = ["ApiError", "ChecksumMismatch", "TrainyardClient"]
