"""Corpus uploads: plain text, one document per line, for unsupervised embeddings."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from app.data.formats.textio import Lines, no_data, open_lines, resolve_encoding
from app.data.types import CorpusData

MAX_VOCABULARY = 50_000  # distinct words counted exactly; beyond that the count is a lower bound
MAX_WORD_CHARS = 100  # longer "words" are left out of the count (which then is a lower bound too)


def inspect_corpus(path: Path, options: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
    """Count documents, tokens and (up to a cap, to bound memory) distinct words, streaming."""
    encoding = resolve_encoding(path, options.get("encoding", "utf-8"))
    documents = tokens = 0
    vocabulary: set[str] = set()
    skipped = False
    with open_lines(path, encoding) as lines:
        for document in _documents(lines):
            words = document.split()
            documents, tokens = documents + 1, tokens + len(words)
            if len(vocabulary) < MAX_VOCABULARY:
                vocabulary.update(w for w in words if len(w) <= MAX_WORD_CHARS)
                skipped = skipped or any(len(w) > MAX_WORD_CHARS for w in words)
        if documents == 0:
            raise no_data(lines)
    return documents, {
        "encoding": encoding, "rows": documents, "documents": documents, "tokens": tokens,
        "vocabulary": len(vocabulary),
        "vocabulary_is_lower_bound": skipped or len(vocabulary) >= MAX_VOCABULARY,
    }


def load_corpus(path: Path, schema: Mapping[str, Any]) -> CorpusData:
    """The non-blank lines, stripped, as documents."""
    with open_lines(path, schema["encoding"]) as lines:
        return CorpusData(list(_documents(lines)))


def _documents(lines: Lines) -> Iterator[str]:
    """Each non-blank line without its surrounding whitespace."""
    for line in lines:
        document = line.strip()
        if document:
            yield document
