"""The catalog of model kinds: name -> spec, read from installed packages (no framework imports).

Each spec says everything the platform asks of its kind (see ``app.kinds.spec``), including
where its trainer lives. Kinds are found through entry points (``app.kinds.registry``) the
first time the catalog is read; the built-in kinds are entry points of this project too.
Adding a kind: ``docs/kinds.md`` ("Write your own kind").
"""
from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping

from app.data.types import DATA_KINDS
from app.kinds.registry import Broken, Installed, discover
from app.kinds.spec import Input, KindSpec, Stage


class Catalog(Mapping[str, KindSpec]):
    """Kind name -> spec, discovered once per process (``reload()`` looks again)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._installed: dict[str, Installed] | None = None
        self._broken: list[Broken] = []

    def _items(self) -> dict[str, Installed]:
        if self._installed is None:
            with self._lock:
                if self._installed is None:
                    self._installed, self._broken = discover()
        return self._installed

    def load(self) -> None:
        """Discover now, if not done yet (start-up: errors of broken packages are logged then)."""
        self._items()

    def reload(self) -> None:
        """Discover again (after a package was installed into this process's path)."""
        with self._lock:
            self._installed, self._broken = discover()

    def __getitem__(self, name: str) -> KindSpec:
        return self._items()[name].spec

    def __iter__(self) -> Iterator[str]:
        return iter(self._items())

    def __len__(self) -> int:
        return len(self._items())

    def installed(self, name: str) -> Installed:
        """The kind with the package that brought it; KeyError when not installed."""
        return self._items()[name]

    @property
    def broken(self) -> list[Broken]:
        self._items()
        return list(self._broken)

    def advertised(self) -> dict[str, dict]:
        """What a worker (or the web) says it has: name -> package and version, plus the broken ones."""
        return {"installed": {n: i.to_json() for n, i in self._items().items()},
                "broken": [b.to_json() for b in self.broken]}


KINDS = Catalog()


def input_of(kind: str) -> Input | None:
    """What versions of ``kind`` take for prediction and batch scoring (None: an unknown kind, or nothing)."""
    spec = KINDS.get(kind)
    return spec.input if spec is not None else None


def suggested_kind(data_kind: str) -> str | None:
    """The simplest kind (no stages, fewest parameters) that trains on ``data_kind``: a form's first guess."""
    fits = [s for s in KINDS.values() if data_kind in s.data_kinds and not s.stages]
    return min(fits, key=lambda s: len(s.params)).name if fits else None


def default_kind() -> str:
    """The form's first choice: the simplest kind for the first dataset kind (tabular), else any."""
    return suggested_kind(DATA_KINDS[0]) or next(iter(KINDS))


def kinds_taking(taken: Input) -> list[str]:
    """The kinds whose versions take ``taken``, for help texts."""
    return [name for name, spec in KINDS.items() if spec.input is taken]


__all__ = ["KINDS", "Broken", "Catalog", "Input", "Installed", "KindSpec", "Stage", "default_kind", "input_of",
           "kinds_taking", "suggested_kind"]
