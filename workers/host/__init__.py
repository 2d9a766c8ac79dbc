"""A worker's main process on its host: this host's GPUs (``gpus.py``, read by ``python -m workers.launch``),
the worker's heartbeat row (``heartbeat.py``) and what the parent knows of its job child (``pool_watch.py``).
"""
