"""The dataset registry: resolve references, register the built-in datasets."""
from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from app.data.builtin import BUILTINS
from app.domain.errors import NotFound
from app.models import Dataset
from app.services.views import DatasetView


def ensure_builtin_datasets(session: Session) -> list[DatasetView]:
    """Register each built-in dataset once (version 1); safe to run at every start."""
    existing = {d.source for d in session.scalars(select(Dataset).where(Dataset.source.like("builtin:%")))}
    added: list[DatasetView] = []
    for builtin in BUILTINS.values():
        if builtin.source in existing:
            continue
        data = builtin.loader()
        row = Dataset(
            name=builtin.name, version=1, kind=builtin.kind, source=builtin.source, path=None,
            sha256=data.fingerprint(), size_bytes=_size(data),
            rows=_rows(data), schema=data.schema(), created_by="trainyard",
            description=builtin.description,
        )
        session.add(row)
        session.flush()
        added.append(DatasetView.of(row))
    return added


def _rows(data) -> int:
    for attr in ("y", "documents"):
        if hasattr(data, attr):
            return len(getattr(data, attr))
    return 0


def _size(data) -> int:
    """Bytes in memory for arrays, UTF-8 bytes for texts."""
    if hasattr(data, "X"):
        return int(data.X.nbytes + data.y.nbytes)
    texts = getattr(data, "texts", None) or getattr(data, "documents", [])
    return sum(len(t.encode("utf-8")) for t in texts)


def list_datasets(session: Session) -> list[DatasetView]:
    rows = session.scalars(select(Dataset).order_by(Dataset.name, Dataset.version.desc()))
    return [DatasetView.of(d) for d in rows]


# Built once: every submission resolves its dataset (see app.services.workers._LIVE).
_ONE_VERSION = select(Dataset).where(Dataset.name == bindparam("name"), Dataset.version == bindparam("version"))
_NEWEST = select(Dataset).where(Dataset.name == bindparam("name"), Dataset.version == (
    select(func.max(Dataset.version)).where(Dataset.name == bindparam("name")).scalar_subquery()))


def resolve_dataset(session: Session, ref: Any) -> Dataset:
    """Find a dataset by ``"name"`` (newest version) or ``"name:version"``.

    Raises NotFound with the reference in the message; a malformed reference is
    reported the same way, since the caller turns it into a field error.
    """
    if not isinstance(ref, str) or not ref.strip():
        raise NotFound("dataset must be a dataset name such as 'digits' or 'digits:1'")
    name, _, version_text = ref.strip().partition(":")
    if version_text:
        if not version_text.isdecimal() or not version_text.isascii() or len(version_text) > 9:
            raise NotFound(f"dataset version {version_text!r} is not a number")
        found = session.scalars(_ONE_VERSION, {"name": name, "version": int(version_text)}).first()
    else:
        found = session.scalars(_NEWEST, {"name": name}).first()
    if found is None:
        raise NotFound(f"no dataset {ref!r}")
    return found


def dataset_versions(session: Session, name: str) -> list[DatasetView]:
    rows = session.scalars(select(Dataset).where(Dataset.name == name).order_by(Dataset.version.desc())).all()
    if not rows:
        raise NotFound(f"no dataset {name!r}")
    return [DatasetView.of(d) for d in rows]


def get_dataset(session: Session, name: str, version: int) -> DatasetView:
    if not 0 < version < 2**31:
        raise NotFound(f"no dataset '{name}:{version}'")
    found = session.scalars(select(Dataset).where(Dataset.name == name, Dataset.version == version)).first()
    if found is None:
        raise NotFound(f"no dataset '{name}:{version}'")
    return DatasetView.of(found)


def preview(session: Session, store, name: str, version: int, rows: int = 10) -> dict[str, Any]:
    """The first rows of a dataset version, read without loading the whole file.

    Returns {"columns": [...], "rows": [[...], ...]}; images show their shape and labels only.
    """
    import csv
    import itertools

    if not 0 < version < 2**31:
        raise NotFound(f"no dataset '{name}:{version}'")
    found = session.scalars(select(Dataset).where(Dataset.name == name, Dataset.version == version)).first()
    if found is None:
        raise NotFound(f"no dataset '{name}:{version}'")
    schema = found.schema or {}
    if found.source.startswith("builtin:"):
        from app.data.builtin import load_builtin

        data = load_builtin(found.source)
        if found.kind == "tabular":
            return {"columns": [*data.feature_names, "label"],
                    "rows": [[*map(float, x), data.class_names[y]] for x, y in zip(data.X[:rows], data.y[:rows],
                                                                                    strict=True)]}
        if found.kind == "text":
            return {"columns": ["text", "label"],
                    "rows": [[t, data.class_names[y]] for t, y in zip(data.texts[:rows], data.y[:rows], strict=True)]}
        if found.kind == "corpus":
            return {"columns": ["document"], "rows": [[d[:300]] for d in data.documents[:rows]]}
        return {"columns": ["image shape", "label"], "rows": [[list(data.X.shape[1:]), data.class_names[y]]
                                                              for y in data.y[:rows]]}
    if found.kind == "images":
        return {"columns": ["image shape", "classes"],
                "rows": [[schema.get("image_shape"), ", ".join(map(str, schema.get("label", {}).get("classes", [])))]]}
    path = store.local(found.path)
    encoding = schema.get("encoding", "utf-8")
    if schema.get("format") == "parquet":
        from app.data.formats.parquet import preview_parquet

        return preview_parquet(path, rows)
    if schema.get("format") == "jsonl":
        from app.data.formats.jsonl import preview_jsonl

        columns = schema.get("columns") or [schema["text_column"], schema["label_column"]]
        return preview_jsonl(path, encoding, list(columns), rows)
    with open(path, encoding=encoding, errors="replace", newline="") as fh:
        if found.kind == "corpus" or schema.get("format") == "fasttext":
            lines = [line.rstrip("\n")[:300] for line in itertools.islice((ln for ln in fh if ln.strip()), rows)]
            return {"columns": ["line"], "rows": [[line] for line in lines]}
        reader = csv.reader(fh, delimiter=schema.get("delimiter", ","))
        header = next(reader, [])
        return {"columns": header, "rows": [[c[:300] for c in row] for row in itertools.islice(reader, rows)]}
