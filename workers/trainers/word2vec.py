"""word2vec: gensim Word2Vec (skip-gram or CBOW, negative sampling) on a corpus.

Evaluated with gensim's own evaluators on the data gensim ships: Spearman
correlation on wordsim353.tsv and accuracy on questions-words.txt. Trains on one
thread with a stable hash so the same job gives the same vectors twice.
"""
from __future__ import annotations

import math
import time
import zlib
from typing import Any

from workers.trainers.context import TrainContext


def stable_hash(text: str) -> int:
    """gensim seeds each word's initial vector with hash(word + seed); Python's hash is salted per process."""
    return zlib.crc32(text.encode("utf-8"))


def tokenize(documents: list[str]) -> list[list[str]]:
    from gensim.utils import simple_preprocess

    return [tokens for doc in documents if (tokens := simple_preprocess(doc, min_len=1, max_len=40))]


def evaluate(wv) -> dict[str, Any]:
    """wordsim353 Spearman/Pearson and analogy accuracy (NaN-free: missing becomes None)."""
    from gensim.test.utils import datapath

    def finite(x) -> float | None:
        x = getattr(x, "statistic", x[0] if isinstance(x, tuple) else x)
        return None if x is None or math.isnan(x) else float(x)

    out: dict[str, Any] = {}
    try:
        pearson, spearman, oov = wv.evaluate_word_pairs(datapath("wordsim353.tsv"))
        out.update(wordsim353_spearman=finite(spearman), wordsim353_pearson=finite(pearson),
                   wordsim353_oov_ratio=float(oov) / 100.0)
    except ValueError:  # every pair is out of vocabulary: no correlation to report
        out.update(wordsim353_spearman=None, wordsim353_pearson=None, wordsim353_oov_ratio=1.0)
    try:
        analogy, _sections = wv.evaluate_word_analogies(datapath("questions-words.txt"))
        out["analogy_accuracy"] = finite(analogy)
    except (ValueError, ZeroDivisionError):
        out["analogy_accuracy"] = None
    return out


def train(ctx: TrainContext) -> None:
    from gensim.models import Word2Vec
    from gensim.models.callbacks import CallbackAny2Vec

    p = ctx.params
    sentences = tokenize(ctx.data.documents)
    if not sentences:
        raise ValueError("the corpus has no tokens")
    total_words = sum(len(s) for s in sentences)
    losses: list[float] = []

    class Report(CallbackAny2Vec):
        def __init__(self) -> None:
            self.epoch, self.previous = 0, 0.0

        def on_epoch_end(self, model) -> None:
            self.epoch += 1
            cumulative = model.get_latest_training_loss()
            losses.append(cumulative - self.previous)
            self.previous = cumulative
            ctx.report(self.epoch, {"loss": losses[-1]})

    model = Word2Vec(vector_size=p["vector_size"], window=p["window"], min_count=p["min_count"],
                     sg=1 if p["sg"] == "skipgram" else 0, negative=p["negative"], hs=0, workers=1,
                     seed=p["seed"], max_vocab_size=p["max_vocab_size"], hashfxn=stable_hash,
                     compute_loss=True)
    model.build_vocab(sentences)
    if not model.wv.index_to_key:
        raise ValueError(f"no word occurs at least min_count={p['min_count']} times")
    started = time.perf_counter()
    model.train(sentences, total_examples=len(sentences), epochs=p["epochs"], compute_loss=True,
                callbacks=[Report()])
    seconds = time.perf_counter() - started

    ctx.add_metrics(**{
        **evaluate(model.wv),
        "vocabulary_size": len(model.wv.index_to_key),
        "corpus_documents": len(sentences),
        "corpus_words": total_words,
        "train_seconds": round(seconds, 3),
        "words_per_second": round(total_words * p["epochs"] / max(seconds, 1e-9), 1),
        "epochs_run": p["epochs"],
    })
    out = ctx.workdir
    model.save(str(out / "word2vec.model"), separately=[])  # one file: never pickled arrays on the side
    model.wv.save_word2vec_format(str(out / "vectors.txt"), binary=False)
    ctx.add_artifact(out / "word2vec.model")
    ctx.add_artifact(out / "vectors.txt")
    ctx.uses("gensim", "numpy")
