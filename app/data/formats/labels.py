"""Class labels shared by every supervised kind: counting, ordering and the mapping to indices."""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from app.data.formats.textio import problem

MAX_CLASSES = 1000
MAX_LABEL_CHARS = 1000  # with MAX_CLASSES, bounds what counting labels can hold in memory
_INTEGER = re.compile(r"[+-]?\d+")


def sort_classes(labels: Iterable[str]) -> list[str]:
    """Integer labels in numeric order ('2' before '10'), any other labels in string order."""
    labels = list(labels)
    if labels and all(_INTEGER.fullmatch(label) for label in labels):
        return sorted(labels, key=lambda label: (int(label), label))
    return sorted(labels)


class LabelCounts:
    """Counts labels as rows stream by, refusing empty labels and label columns that are not classes."""

    def __init__(self, subject: str) -> None:
        self.subject = subject  # e.g. "the label column 'label'", used in messages
        self.counts: Counter[str] = Counter()

    def add(self, label: str, where: str) -> None:
        """Count one row's label; ``where`` (e.g. 'line 7') locates an empty one."""
        if not label:
            raise problem(f"{where}: the label is empty ({self.subject})")
        if "\n" in label or "\r" in label:
            raise problem(f"{where}: the label contains a line break (is a quote left open?)")
        if len(label) > MAX_LABEL_CHARS:
            raise problem(f"{where}: the label is {len(label):,} characters long; class labels should be "
                          f"short names (at most {MAX_LABEL_CHARS:,} characters; {self.subject})")
        self.counts[label] += 1
        if len(self.counts) > MAX_CLASSES:
            raise problem(f"{self.subject} has more than {MAX_CLASSES:,} distinct values; class labels "
                          "should be a few categories (is it a numeric target?)")

    def summary(self) -> dict[str, Any]:
        """Sorted classes and their counts, after checking there are at least two classes."""
        return summarise(self.subject, self.counts)


def summarise(subject: str, counts: Mapping[str, int]) -> dict[str, Any]:
    """The schema's label block: classes in order and rows per class; one class is refused."""
    classes = sort_classes(counts)
    if len(classes) == 1:
        raise problem(f"{subject} has a single class {classes[0]!r}: a classifier needs at least two")
    return {"classes": classes, "counts": {c: int(counts[c]) for c in classes}}


def class_index(schema: Mapping[str, Any]) -> dict[str, int]:
    """Label string -> position in the schema's class list (what ``y`` holds)."""
    return {name: i for i, name in enumerate(schema["label"]["classes"])}


def label_id(index: Mapping[str, int], label: str, where: str) -> int:
    """One label's class index; a label the inspection did not see means the file changed since."""
    try:
        return index[label]
    except KeyError:
        raise problem(f"{where}: label {label!r} was not in the file when it was inspected") from None
