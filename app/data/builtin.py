"""Built-in datasets that ship inside installed packages, so nothing is downloaded.

scikit-learn ships digits, iris, wine and breast_cancer; gensim ships its test
corpora. The worker loads them to train; the seeding command loads them once to
record their sha256, rows and schema in the dataset registry.
"""
from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.data.types import CorpusData, ImageData, TabularData, TextData

Data = TabularData | ImageData | TextData | CorpusData


@dataclass(frozen=True)
class BuiltinDataset:
    name: str
    kind: str
    source: str
    description: str
    loader: Callable[[], Data]


def _sklearn(loader_name: str) -> Callable[[], TabularData]:
    def load() -> TabularData:
        from sklearn import datasets  # imported lazily: the web process never needs it

        bunch = getattr(datasets, loader_name)()
        feature_names = [str(n) for n in getattr(bunch, "feature_names", [])] or [
            f"x{i}" for i in range(bunch.data.shape[1])
        ]
        return TabularData(bunch.data.astype(np.float32), bunch.target.astype(np.int64),
                           feature_names, [str(n) for n in bunch.target_names])

    return load


def _digits_images() -> ImageData:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return ImageData(bunch.images.astype(np.float32)[..., np.newaxis], bunch.target.astype(np.int64),
                     [str(n) for n in bunch.target_names])


def _gensim_file(name: str) -> str:
    """A file of gensim's shipped test data, found without importing gensim (nor scipy behind it).

    Registering and previewing a built-in dataset runs in the web process, and services may not pull
    gensim in (see the import contracts in pyproject.toml). This is the path ``gensim.test.utils.datapath``
    returns.
    """
    spec = importlib.util.find_spec("gensim")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("gensim is not installed: its built-in corpora are unavailable")
    return str(Path(spec.submodule_search_locations[0]) / "test" / "test_data" / name)


def _lee_background() -> CorpusData:
    with open(_gensim_file("lee_background.cor"), encoding="utf-8") as fh:
        return CorpusData([line.strip() for line in fh if line.strip()])


def _pang_lee_polarity() -> TextData:
    """fastText-style lines (``__label__pos text``); the file is latin-1, not UTF-8."""
    texts, labels = [], []
    with open(_gensim_file("pang_lee_polarity.cor"), encoding="latin-1") as fh:
        for line in fh:
            label, _, text = line.strip().partition(" ")
            if text:
                texts.append(text)
                labels.append(label.removeprefix("__label__"))
    classes = sorted(set(labels))
    return TextData(texts, np.array([classes.index(x) for x in labels], dtype=np.int64), classes)


BUILTINS: dict[str, BuiltinDataset] = {
    d.name: d
    for d in (
        BuiltinDataset("digits", "tabular", "builtin:sklearn.digits",
                       "8x8 handwritten digits as 64 pixel features, 10 classes (1,797 rows).",
                       _sklearn("load_digits")),
        BuiltinDataset("digits_images", "images", "builtin:sklearn.digits_images",
                       "The same digits as 8x8x1 images, for convolutional networks.", _digits_images),
        BuiltinDataset("iris", "tabular", "builtin:sklearn.iris",
                       "Iris flowers, 4 features, 3 classes (150 rows).", _sklearn("load_iris")),
        BuiltinDataset("wine", "tabular", "builtin:sklearn.wine",
                       "Wine cultivars, 13 features, 3 classes (178 rows).", _sklearn("load_wine")),
        BuiltinDataset("breast_cancer", "tabular", "builtin:sklearn.breast_cancer",
                       "Breast cancer diagnosis, 30 features, 2 classes (569 rows).",
                       _sklearn("load_breast_cancer")),
        BuiltinDataset("lee_background", "corpus", "builtin:gensim.lee_background",
                       "gensim's Lee background corpus: 300 news documents, one per line.",
                       _lee_background),
        BuiltinDataset("pang_lee_polarity", "text", "builtin:gensim.pang_lee_polarity",
                       "200 movie-review sentences labelled pos/neg (gensim test data, latin-1).",
                       _pang_lee_polarity),
    )
}


def load_builtin(source: str) -> Data:
    """Load a built-in dataset by its registry ``source`` string."""
    for builtin in BUILTINS.values():
        if builtin.source == source:
            return builtin.loader()
    raise KeyError(source)
