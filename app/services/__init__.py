"""Use-cases. Each takes a session and plain values and returns plain views.

No Flask, no Celery, no TensorFlow here; callers (web, API, CLI, tasks) own the
transaction and map ``app.domain.errors`` to their own way of answering.
"""
