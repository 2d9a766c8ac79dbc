"""Dynamic micro-batching: concurrent requests for one version run through the model together.

One thread per loaded version owns the model. It takes every request already waiting (up to
``max_rows`` rows), runs them as one ``predict_on_batch`` and hands each caller its own rows back,
in order. A request that finds the model idle runs at once; only while requests keep arriving
together (the last batch held more than one) does the thread wait up to ``max_wait_s`` for more.
With batching off every request runs alone, one after another: the baseline the benchmark compares.
"""
from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np


class _Pending:
    __slots__ = ("done", "error", "result", "x")

    def __init__(self, x: np.ndarray) -> None:
        self.x = x
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None


class Batcher:
    """Runs ``run(x) -> rows`` on batches gathered from concurrent ``submit`` calls."""

    def __init__(self, run: Callable[[np.ndarray], np.ndarray], max_rows: int = 64, max_wait_s: float = 0.002,
                 enabled: bool = True, name: str = "batcher") -> None:
        self.run, self.max_rows, self.max_wait_s, self.enabled = run, max(1, max_rows), max_wait_s, enabled
        self._queue: queue.Queue[_Pending | None] = queue.Queue()
        self._carry: _Pending | None = None
        self.batches = 0
        self.rows = 0
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def submit(self, x: np.ndarray) -> np.ndarray:
        """This caller's rows of the model's output, whoever else ran in the same batch."""
        pending = _Pending(x)
        self._queue.put(pending)
        pending.done.wait()
        if pending.error is not None:
            raise pending.error
        return pending.result

    def close(self) -> None:
        """Stop the thread once the requests already queued are answered (an unloaded version)."""
        self._queue.put(None)

    def _loop(self) -> None:
        last_size = 1
        while True:
            first = self._carry or self._queue.get()
            self._carry = None
            if first is None:
                return
            batch = self._gather(first, wait=last_size > 1)
            if batch[-1] is None:
                batch.pop()
                self._queue.put(None)
            last_size = len(batch)
            self._answer(batch)

    def _gather(self, first: _Pending, wait: bool) -> list[Any]:
        batch: list[Any] = [first]
        rows = len(first.x)
        deadline = time.monotonic() + (self.max_wait_s if wait else 0)
        while self.enabled and rows < self.max_rows:
            try:
                left = deadline - time.monotonic()
                nxt = self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if nxt is None or rows + len(nxt.x) <= self.max_rows:
                batch.append(nxt)
                if nxt is None:
                    break
                rows += len(nxt.x)
            else:
                self._carry = nxt  # too big to join: it starts the next batch
                break
        return batch

    def _answer(self, batch: list[_Pending]) -> None:
        try:
            x = batch[0].x if len(batch) == 1 else np.concatenate([p.x for p in batch])
            out = self.run(x)
            self.batches += 1
            self.rows += len(x)
            start = 0
            for p in batch:
                p.result = out[start:start + len(p.x)]
                start += len(p.x)
        except BaseException as exc:  # every caller of the batch hears of it; the thread lives on
            for p in batch:
                p.error = exc
        for p in batch:
            p.done.set()
