"""Reading files to score in chunks (workers/jobs/scoring.py), without a worker: the fast Arrow path, the
csv module's path for files Arrow cannot decode, each bad row's reason, text files and data in memory."""
from __future__ import annotations

import numpy as np
import pytest

from workers.jobs import scoring

SCHEMA = {"encoding": "utf-8", "delimiter": ","}


def _all(chunks):
    chunks = list(chunks)
    ids = [int(i) for c in chunks for i in c.ids]
    keys = [k for c in chunks for k in (c.keys or [])]
    x = np.concatenate([c.x for c in chunks]) if chunks else np.empty((0, 0))
    errors = [e for c in chunks for e in c.errors]
    return chunks, ids, keys, x, errors


def test_plain_numeric_rows_are_cut_into_chunks_of_the_asked_size(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("a,b,c\n" + "".join(f"{i},{i * 2},{i % 3}\n" for i in range(7)))
    chunks, ids, keys, x, errors = _all(scoring.tabular_chunks(path, SCHEMA, ["c", "a"], None, 3))
    assert [c.rows for c in chunks] == [3, 3, 1] and [c.index for c in chunks] == [0, 1, 2]
    assert ids == list(range(1, 8)) and keys == [] and errors == []
    assert x.dtype == np.float32 and x[:, 1].tolist() == list(range(7)) and x[:, 0].tolist() == [i % 3 for i in
                                                                                                   range(7)]


def test_each_bad_row_is_named_with_its_reason_and_the_good_ones_keep_their_order(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("id,a,b\nr1,1,2\nr2,,3\nr3,4\nr4,inf,1\nr5,1e39,1\nr6,x,1\nr7, 5 , 6 \n")
    _, ids, keys, x, errors = _all(scoring.tabular_chunks(path, SCHEMA, ["a", "b"], "id", 100))
    assert ids == [1, 7] and keys == ["r1", "r7"] and x.tolist() == [[1, 2], [5, 6]]
    reasons = dict(errors)
    assert reasons[2] == "column 'a' is empty"
    assert reasons[3] == "has 2 fields, the header has 3"
    assert "not a finite float32" in reasons[4] and "not a finite float32" in reasons[5]
    assert reasons[6] == "column 'a': 'x' is not a number"


def test_a_file_arrow_cannot_decode_is_read_by_the_csv_module_with_the_same_results(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(b"id,a,b\n\xe9t\xe9,1,2\nok,3,4\nbad,x,1\n" + b"".join(b"k%d,%d,1\n" % (i, i) for i in range(5)))
    chunks, ids, keys, x, errors = _all(scoring.tabular_chunks(path, SCHEMA, ["a", "b"], "id", 3))
    assert [c.rows for c in chunks] == [3, 3, 2]
    assert ids == [1, 2, 4, 5, 6, 7, 8] and keys[0] == "\ufffdt\ufffd" and keys[1:] == ["ok", "k0", "k1", "k2",
                                                                                          "k3", "k4"]
    assert errors == [(3, "column 'a': 'x' is not a number")]
    assert x[:, 0].tolist() == [1, 3, 0, 1, 2, 3, 4]


def test_a_missing_feature_column_is_refused_up_front(tmp_path):
    path = tmp_path / "cols.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="no column"):
        list(scoring.tabular_chunks(path, SCHEMA, ["a", "z"], None, 10))
    empty = tmp_path / "empty.csv"
    empty.write_text("\n\n")
    with pytest.raises(ValueError, match="no column"):
        list(scoring.tabular_chunks(empty, SCHEMA, ["a"], None, 10))


def test_text_files_are_chunked_and_each_row_keeps_its_number(tmp_path):
    path = tmp_path / "texts.txt"
    path.write_text("".join(f"__label__x text number {i}\n" for i in range(5)))
    chunks = list(scoring.text_chunks(path, {"encoding": "utf-8", "format": "fasttext"}, 2))
    assert [c.rows for c in chunks] == [2, 2, 1]
    assert [list(c.ids) for c in chunks] == [[1, 2], [3, 4], [5]]
    assert chunks[2].x.shape == (1, 1) and chunks[2].x[0, 0] == "text number 4"
    blank = scoring._text_chunk(0, 10, ["fine", "   "])
    assert blank.ids == [11] and blank.errors == [(12, "the text is empty")]


def test_data_in_memory_is_cut_into_chunks_numbered_from_one():
    chunks = list(scoring.memory_chunks(np.arange(10).reshape(5, 2), 2))
    assert [c.ids for c in chunks] == [[1, 2], [3, 4], [5]]
    assert chunks[2].x.tolist() == [[8, 9]] and sum(c.rows for c in chunks) == 5
