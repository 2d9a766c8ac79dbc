"""The job runner: the Celery tasks, and one job's claim, train or score, publish and register.

``tasks.py`` (thin tasks with explicit names) -> ``runner.py`` (a training job) or ``batch.py`` (batch
inference, reading the dataset in chunks with ``scoring.py``); ``lease.py`` is a running attempt's
heartbeat thread, ``checkpoints.py``, ``joblog.py`` and ``gate.py`` serve the runner, and ``warmup.py``
imports TensorFlow in the job child before a job claims.
"""
