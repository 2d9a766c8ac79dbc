"""word2vec: gensim Word2Vec (skip-gram or CBOW, negative sampling) on a corpus.

Trained one epoch at a time on gensim's own learning-rate schedule, checkpointing the vectors (numpy
arrays, no pickle) after each, so an interrupted job resumes where it was. Evaluated with gensim's own
evaluators on the data gensim ships: Spearman correlation on wordsim353.tsv and accuracy on
questions-words.txt. Trains on one thread with a stable hash so the same job gives the same vectors twice.
"""
from __future__ import annotations

import math
import time
import zlib
from typing import Any

import numpy as np

from workers.trainers.context import TrainContext


def stable_hash(text: str) -> int:
    """gensim seeds each word's initial vector with hash(word + seed); Python's hash is salted per process."""
    return zlib.crc32(text.encode("utf-8"))


def tokenize(documents: list[str]) -> list[list[str]]:
    from gensim.utils import simple_preprocess

    return [tokens for doc in documents if (tokens := simple_preprocess(doc, min_len=1, max_len=40))]


def _model(p: dict[str, Any], sentences: list[list[str]]):
    """The model with its vocabulary built (the same corpus and params give the same vocabulary)."""
    from gensim.models import Word2Vec

    model = Word2Vec(vector_size=p["vector_size"], window=p["window"], min_count=p["min_count"],
                     sg=1 if p["sg"] == "skipgram" else 0, negative=p["negative"], hs=0, workers=1,
                     seed=p["seed"], max_vocab_size=p["max_vocab_size"], hashfxn=stable_hash,
                     compute_loss=True)
    model.build_vocab(sentences)
    if not model.wv.index_to_key:
        raise ValueError(f"no word occurs at least min_count={p['min_count']} times")
    return model


def _resume(ctx: TrainContext, model) -> int:
    """Put the newest checkpoint's vectors back (arrays only, never a pickle); returns the epochs done."""
    found = ctx.restore()
    if found is None:
        return 0
    state = found.arrays()
    if state["words"].tolist() != model.wv.index_to_key:
        ctx.log.warning("the checkpoint's vocabulary differs from this corpus's: training from scratch")
        ctx.history = {}
        return 0
    model.wv.vectors[:] = state["vectors"]
    model.syn1neg[:] = state["syn1neg"]
    ctx.log.info("resuming from epoch %d", found.epoch)
    return found.epoch


def evaluate(wv) -> dict[str, Any]:
    """wordsim353 Spearman/Pearson and analogy accuracy (NaN-free: missing becomes None), and how many analogy
    questions were evaluated (0 when every word is out of the vocabulary: the page then says so)."""
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
        analogy, sections = wv.evaluate_word_analogies(datapath("questions-words.txt"))
        total = next((s for s in sections if s.get("section") == "Total accuracy"), {})
        evaluated = len(total.get("correct", [])) + len(total.get("incorrect", []))
    except (ValueError, ZeroDivisionError):
        analogy, evaluated = None, 0
    # gensim scores 0.0 when every question is out of vocabulary: that is "not evaluated", not 0% right.
    out["analogy_evaluated"] = evaluated
    out["analogy_accuracy"] = finite(analogy) if evaluated else None
    return out


def train(ctx: TrainContext) -> None:
    p = ctx.params
    sentences = tokenize(ctx.data.documents)
    if not sentences:
        raise ValueError("the corpus has no tokens")
    total_words = sum(len(s) for s in sentences)
    model = _model(p, sentences)
    first = _resume(ctx, model)
    started = time.perf_counter()
    top, floor = model.alpha, model.min_alpha  # train() overwrites both with each call's own range
    for epoch in range(first, p["epochs"]):
        # One epoch per call, with the learning rate of that epoch in the linear decay gensim would use:
        # a run resumed at epoch k goes on where the schedule was.
        alpha = [top - (top - floor) * e / p["epochs"] for e in (epoch, epoch + 1)]
        model.train(sentences, total_examples=len(sentences), epochs=1, start_alpha=alpha[0], end_alpha=alpha[1],
                    compute_loss=True)
        state = {"vectors": model.wv.vectors, "syn1neg": model.syn1neg, "words": np.array(model.wv.index_to_key)}
        ctx.report(epoch + 1, {"loss": model.get_latest_training_loss()}, checkpoint=state)
    seconds = time.perf_counter() - started

    ctx.add_metrics(**{
        **evaluate(model.wv),
        "vocabulary_size": len(model.wv.index_to_key),
        "corpus_documents": len(sentences),
        "corpus_words": total_words,
        "train_seconds": round(seconds, 3),
        "words_per_second": round(total_words * (p["epochs"] - first) / max(seconds, 1e-9), 1),
        "epochs_run": p["epochs"],
        "resumed_from_epoch": first or None,
    })
    out = ctx.workdir
    model.save(str(out / "word2vec.model"), separately=[])  # one file: never pickled arrays on the side
    model.wv.save_word2vec_format(str(out / "vectors.txt"), binary=False)
    ctx.add_artifact(out / "word2vec.model")
    ctx.add_artifact(out / "vectors.txt")
    ctx.uses("gensim", "numpy")
