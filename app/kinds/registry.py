"""Kinds come from installed packages: the entry points of group ``trainyard.kinds``.

One door for everyone: the six built-in kinds are entry points of this project's own
``pyproject.toml``, a team's kind is an entry point of its package. Each entry point names a
``KindSpec`` object (``"package.module:SPEC"``). A kind that fails to import, declares an
invalid spec or reuses a taken name is kept as ``Broken`` with its error and logged; every
other kind keeps working. Nothing here imports a framework: a spec never does.
"""
from __future__ import annotations

import logging
import re
import traceback
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from app.data.types import DATA_KINDS
from app.kinds.spec import Input, KindSpec

log = logging.getLogger(__name__)
GROUP = "trainyard.kinds"
PLATFORM_PACKAGE = "trainyard"  # the built-in kinds' distribution: first in line for a name
NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


@dataclass(frozen=True)
class Installed:
    """A working kind and the package that brought it (recorded with every version it trains)."""

    spec: KindSpec
    package: str
    version: str
    entry_point: str  # "module:attribute"

    @property
    def builtin(self) -> bool:
        return self.package == PLATFORM_PACKAGE

    def to_json(self) -> dict[str, Any]:
        return {"package": self.package, "version": self.version}


@dataclass(frozen=True)
class Broken:
    """An entry point that did not give a usable kind, and why."""

    name: str
    package: str
    version: str
    entry_point: str
    error: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "package": self.package, "version": self.version,
                "entry_point": self.entry_point, "error": self.error}


def _dist(ep: metadata.EntryPoint) -> tuple[str, str]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return "?", "?"
    return dist.metadata["Name"] or "?", dist.version or "?"


def check_spec(name: str, spec: Any) -> str | None:
    """Why ``spec`` is not a usable kind for entry point ``name`` (None: it is)."""
    if not isinstance(spec, KindSpec):
        return f"the entry point must name a KindSpec object, got {type(spec).__name__}"
    if spec.name != name:
        return f"the entry point is named {name!r} but its spec is named {spec.name!r}"
    if not NAME.match(spec.name):
        return "a kind's name is 1-40 lower-case letters, digits, '_' or '-', starting with a letter"
    if not spec.title.strip():
        return "title is empty"
    wrong = [d for d in spec.data_kinds if d not in DATA_KINDS] or ([] if spec.data_kinds else ["(none)"])
    if wrong:
        return f"data_kinds {wrong} are not dataset kinds ({', '.join(DATA_KINDS)})"
    if spec.input is not None and not isinstance(spec.input, Input):
        return f"input must be an Input (or None), got {spec.input!r}"
    names = [p.name for p in spec.params]
    if len(names) != len(set(names)):
        return f"parameter names repeat: {sorted({n for n in names if names.count(n) > 1})}"
    return None


def _load(ep: metadata.EntryPoint) -> Installed | Broken:
    package, version = _dist(ep)
    try:
        spec = ep.load()
    except Exception as exc:  # a plugin's import error must not take the platform down
        error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return Broken(ep.name, package, version, ep.value, f"import failed: {error}")
    problem = check_spec(ep.name, spec)
    if problem:
        return Broken(ep.name, package, version, ep.value, f"invalid spec: {problem}")
    return Installed(spec, package, version, ep.value)


def discover(group: str = GROUP) -> tuple[dict[str, Installed], list[Broken]]:
    """Every kind the installed packages declare: (name -> installed, broken ones).

    The platform's own kinds come first, then other packages by name, so a package that reuses a
    built-in name is the one listed as broken. A kind whose stage names a missing kind is broken too.
    """
    points = sorted(metadata.entry_points(group=group),
                    key=lambda ep: (_dist(ep)[0] != PLATFORM_PACKAGE, _dist(ep)[0]))  # stable: a package's own order
    installed: dict[str, Installed] = {}
    broken: list[Broken] = []
    for ep in points:
        found = _load(ep)
        if isinstance(found, Installed) and found.spec.name in installed:
            taken = installed[found.spec.name].package
            found = Broken(ep.name, found.package, found.version, ep.value,
                           f"the name {ep.name!r} is taken by package {taken!r}")
        if isinstance(found, Broken):
            broken.append(found)
        else:
            installed[found.spec.name] = found
    for name, item in list(installed.items()):
        missing = [s.kind for s in item.spec.stages if s.kind not in installed]
        if missing:
            del installed[name]
            broken.append(Broken(name, item.package, item.version, item.entry_point,
                                 f"invalid spec: its stage needs kind {missing[0]!r}, which is not installed"))
    for b in broken:
        log.error("model kind %r from package %s %s is broken and not offered: %s",
                  b.name, b.package, b.version, b.error)
    return installed, broken
