"""What the serve process holds: the version behind every alias, loaded, and a few others on demand.

The alias table is a dict swapped one entry at a time: a request reads the entry once and keeps
the version it found, so a swap never fails or stalls a request. Moves arrive from the watcher
(app/serve/watch.py); nothing here reads the database on a request for a known alias.
"""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.domain.errors import Conflict, DomainError, NotFound, TamperedArtifact
from app.kinds import KINDS, Input
from app.runtime import Runtime
from app.serve.batcher import Batcher
from app.serve.predictor import ModelCache, probabilities
from app.services import aliases, registry
from app.storage import Tampered
from app.storage.checked import Fingerprint, fingerprint

log = logging.getLogger(__name__)
RETIRE_AFTER_S = 60.0  # far longer than a request holds a version it picked up


@dataclass
class Loaded:
    """One version, loaded and ready to answer."""

    model: str
    version: int
    takes: Input
    schema: dict[str, Any]
    class_names: list[str]
    obj: Any  # the Keras model, or word vectors
    batcher: Batcher | None  # None for word vectors: no batch to gather
    artifact: str = ""  # the file it was loaded from (store path), its recorded sha256, and its
    sha256: str = ""  # fingerprint when last verified: a change means verify again before answering
    seen: Fingerprint | None = None


class Serving:
    """The loaded versions of one serve process; thread-safe for the request threads."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.models = ModelCache(max(4, rt.settings.serve_cache_size))  # loads checked against their sha256
        self.aliases: dict[tuple[str, str], Loaded | DomainError] = {}
        self.versions: OrderedDict[tuple[str, int], Loaded] = OrderedDict()
        self.ready = threading.Event()
        self._lock = threading.Lock()

    def warm(self) -> None:
        """Import TensorFlow and load every aliased version: until then the health check says 503."""
        import tensorflow  # noqa: F401  once, at start: no request pays for it

        with self.rt.session() as session:
            wanted = aliases.every_alias(session)
        for (name, alias), version in wanted.items():
            self.aliases[(name, alias)] = self._try_load(name, version)
        self.ready.set()
        log.info("serve ready: %d aliases warm", len(wanted))

    def for_alias(self, name: str, alias: str) -> Loaded:
        """The version behind ``alias``; an alias not seen yet is read from the database once."""
        found = self.aliases.get((name, alias))
        if found is None:
            self.refresh(name, alias)
            found = self.aliases.get((name, alias))
            if found is None:
                raise NotFound(f"{name} has no alias {alias!r}")
        if isinstance(found, DomainError):
            raise found
        return self.checked(found)

    def checked(self, loaded: Loaded) -> Loaded:
        """``loaded`` if its file is as verified; a file changed since (any write moves its ctime) is
        verified again, and a failure is a 409 (audited by the caller), never an answer."""
        now = fingerprint(self.rt.store.local(loaded.artifact))
        if now != loaded.seen:
            try:
                self.rt.store.verified(loaded.artifact, loaded.sha256)
            except Tampered as exc:
                raise TamperedArtifact(f"{exc}: refusing to answer with it", loaded.artifact) from None
            loaded.seen = now
        return loaded

    def for_version(self, name: str, version: int) -> Loaded:
        """A version asked for by number: from the aliases or the bounded cache, else loaded now."""
        with self._lock:
            cached = self.versions.get((name, version))
            if cached is not None:
                self.versions.move_to_end((name, version))
        if cached is not None:
            return self.checked(cached)
        known = self._known(name, version)
        if known is not None:
            return self.checked(known)
        loaded = self.load(name, version)
        with self._lock:
            self.versions[(name, version)] = loaded
            while len(self.versions) > self.rt.settings.serve_cache_size:
                _retire(self.versions.popitem(last=False)[1])
        return loaded

    def refresh(self, name: str, alias: str, version: int | None = None) -> None:
        """Bring one alias up to date: load the version it points at now, then swap (no request waits)."""
        if version is None:
            try:
                with self.rt.session() as session:
                    version = aliases.resolve_alias(session, name, alias).version
            except NotFound:
                self.aliases.pop((name, alias), None)
                return
        current = self.aliases.get((name, alias))
        if isinstance(current, Loaded) and current.version == version:
            return
        self.aliases[(name, alias)] = self._known(name, version) or self._try_load(name, version)  # the swap
        if isinstance(current, Loaded) and current not in self.aliases.values():
            _retire(current)
        log.info("serve: %s/%s now answers with v%s", name, alias, version)

    def _known(self, name: str, version: int) -> Loaded | None:
        """A version already loaded (a roll back to the previous one swaps at once)."""
        for loaded in [*self.aliases.values(), *self.versions.values()]:
            if isinstance(loaded, Loaded) and (loaded.model, loaded.version) == (name, version):
                return loaded
        return None

    def _try_load(self, name: str, version: int) -> Loaded | DomainError:
        try:
            return self.load(name, version)
        except DomainError as exc:  # tampered, archived, not servable: every request for it hears why
            log.error("serve: cannot load %s v%s: %s", name, version, exc.message)
            return exc
        except Exception as exc:  # a missing or unreadable file: refuse that alias, serve the others
            log.exception("serve: cannot load %s v%s", name, version)
            return Conflict(f"{name} v{version} could not be loaded: {type(exc).__name__}")

    def load(self, name: str, version: int) -> Loaded:
        """Load a version (its file checked against its sha256 first) and run it once, so it is warm."""
        with self.rt.session() as session:
            target = registry.serving_target(session, name, None, version)
        v = target.version
        spec = KINDS.get(v.kind)
        if spec is None or spec.input is None:
            raise Conflict(f"{name} v{v.version} is a {v.kind} model, which this server cannot serve")
        artifact = v.artifact(spec.input.artifact)
        if artifact is None:
            raise Conflict(f"{name} v{v.version} has no {spec.input.artifact} artifact")
        loader = "vectors" if spec.input is Input.WORDS else "keras"
        obj = self.models.get(self.rt.store, artifact.path, artifact.sha256, loader=loader)
        classes = v.metrics.get("class_names") or target.dataset_schema.get("label", {}).get("classes", [])
        loaded = Loaded(name, v.version, spec.input, target.dataset_schema, list(classes), obj, None,
                        artifact.path, artifact.sha256, fingerprint(self.rt.store.local(artifact.path)))
        if spec.input is not Input.WORDS:
            s = self.rt.settings
            loaded.batcher = Batcher(lambda x: probabilities(obj, x), s.serve_max_batch, s.serve_max_wait_ms / 1000,
                                     enabled=bool(s.serve_batching), name=f"batch-{name}-v{v.version}")
            sample = _sample(spec.input, target.dataset_schema)
            loaded.batcher.submit(sample)  # traces the graph now, and with a second batch size its form for
            loaded.batcher.submit(np.concatenate([sample, sample]))  # any size: no request pays for a trace
        return loaded


def _retire(loaded: Loaded) -> None:
    """Stop an unloaded version's batch thread later, once requests that picked it up are answered."""
    if loaded.batcher is not None:
        timer = threading.Timer(RETIRE_AFTER_S, loaded.batcher.close)
        timer.daemon = True
        timer.start()


def _sample(takes: Input, schema: dict[str, Any]) -> np.ndarray:
    """One harmless instance of the shape the version takes, to run it once before it answers."""
    if takes is Input.TEXT:
        return np.array([["warm up"]], dtype=object)
    if takes is Input.IMAGES:
        return np.zeros((1, *schema.get("image_shape", [])), dtype=np.float32)
    return np.zeros((1, len(schema.get("features", []))), dtype=np.float32)
