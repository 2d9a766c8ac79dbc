"""Value formatting on the pages (app/web/pages/formatting.py): one place, the rules a person reads."""
from __future__ import annotations

import math

import pytest

from app.web.pages.formatting import MISSING, NOT_EVALUATED, event_text, metric, plain, value, when


@pytest.mark.parametrize(("v", "key", "shown"), [
    (None, "", MISSING), (True, "", "yes"), (False, "freeze_embeddings", "no"),
    (1996, "scored", "1,996"), (933.4, "words_per_second", "933"), (1797.0, "rows", "1,797"),
    (12.0, "corpus_documents", "12"), (0.91234567, "test_accuracy", "0.9123"), (1.0, "test_accuracy", "1"),
    (3.14159, "train_seconds", "3.14"), (1234.5678, "elapsed_s", "1,235"), (123456.7, "loss", "123,457"),
    (math.nan, "loss", "nan"), ("adam", "", "adam"), ([1, 2], "", "1, 2"),
    ({"a": 3, "b": None}, "", f"a 3, b {MISSING}"), ([], "", MISSING), (773.5, "peak_rss_mb", "773.5"),
    (1024.25, "peak_rss_mb", "1,024"),
])
def test_values_read_as_a_person_reads_them(v, key, shown):
    assert value(v, key) == shown


def test_word2vec_scores_with_nothing_evaluated_say_so():
    none_in_vocab = {"analogy_accuracy": None, "analogy_evaluated": 0, "wordsim353_spearman": None,
                     "wordsim353_oov_ratio": 1.0}
    assert metric(None, "analogy_accuracy", none_in_vocab) == NOT_EVALUATED
    assert metric(0.0, "analogy_accuracy", none_in_vocab) == NOT_EVALUATED  # gensim's 0.0 of nothing
    assert metric(None, "wordsim353_spearman", none_in_vocab) == NOT_EVALUATED
    assert metric(0.25, "analogy_accuracy", {"analogy_evaluated": 40}) == "0.2500"
    assert metric(None, "resumed_from_epoch", {}) == MISSING and metric("", "test_accuracy") == ""
    assert metric(0, "analogy_evaluated", none_in_vocab) == "0"
    assert metric(1.0, "wordsim353_oov_ratio", none_in_vocab) == "1"


def test_parameters_keep_their_digits_and_events_read_as_sentences():
    assert (plain(0.003), plain(1e-05), plain(False), plain(None), plain(64)) == ("0.003", "1e-05", "no", MISSING, "64")
    epoch = event_text("epoch", {"epoch": 3, "loss": 0.41204, "accuracy": 0.9})
    assert epoch == "epoch 3: loss 0.4120 · accuracy 0.9000"
    assert event_text("status", {"status": "running", "attempt": 1, "worker": None}) == (
        f"running (attempt 1, worker {MISSING})")
    assert event_text("claimed", {"worker": "w1", "resumed": False}) == "claimed (worker w1, resumed no)"
    assert event_text("log", {"message": "hello"}) == "log hello" and event_text("queued", {}) == "queued"
    assert when("2026-11-27T21:27:39.123+00:00") == "2026-11-27 21:27:39" and when(None) == MISSING
