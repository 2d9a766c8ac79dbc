"""Uploaded dataset files: streaming validation with actionable messages, and loading."""
from __future__ import annotations

import json
import pickle
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

from app.data.types import CorpusData, ImageData, TabularData, TextData
from app.data.uploads import UPLOAD_OPTIONS, Inspection, inspect_upload, load_upload
from app.domain.errors import Invalid

IRIS = (
    "sepal_length,sepal_width,petal_length,petal_width,label\n"
    "5.1,3.5,1.4,0.2,setosa\n"
    "7.0,3.2,4.7,1.4,versicolor\n"
    "6.3,3.3,6.0,2.5,virginica\n"
    "4.9,3.0,1.4,0.2,setosa\n"
)


def write(tmp_path: Path, content: str | bytes, name: str = "upload.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def problems(path: Path, kind: str, **options: str) -> dict[str, str]:
    with pytest.raises(Invalid) as caught:
        inspect_upload(path, kind, options)
    return caught.value.fields


def roundtrip(path: Path, kind: str, **options: str):
    found = inspect_upload(path, kind, options)
    json.dumps(found.schema)  # the schema is stored as JSON
    return found, load_upload(path, kind, found.schema)


# -- tabular -------------------------------------------------------------------------------------------

def test_tabular_happy_path(tmp_path):
    found, data = roundtrip(write(tmp_path, IRIS), "tabular")
    assert isinstance(found, Inspection) and found.kind == "tabular" and found.rows == 4
    s = found.schema
    assert (s["delimiter"], s["encoding"], s["label_column"]) == (",", "utf-8", "label")
    assert s["columns"][-1] == "label"
    assert s["features"][3] == {"name": "petal_width", "type": "number"}
    assert s["label"] == {"name": "label", "classes": ["setosa", "versicolor", "virginica"],
                          "counts": {"setosa": 2, "versicolor": 1, "virginica": 1}}
    assert isinstance(data, TabularData)
    assert data.X.dtype == np.float32 and data.X.shape == (4, 4)
    assert data.X[1].tolist() == pytest.approx([7.0, 3.2, 4.7, 1.4])
    assert data.y.dtype == np.int64 and data.y.tolist() == [0, 1, 2, 0]
    assert data.feature_names == ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    assert data.class_names == ["setosa", "versicolor", "virginica"]


def test_integer_labels_sort_numerically(tmp_path):
    found, data = roundtrip(write(tmp_path, "x,label\n1,10\n2,2\n3,1\n4,2\n"), "tabular")
    assert found.schema["label"]["classes"] == ["1", "2", "10"]
    assert data.y.tolist() == [2, 1, 0, 1]


@pytest.mark.parametrize(("delimiter", "option"), [(";", None), ("\t", None), ("|", None), ("\t", "tab"),
                                                   (";", "semicolon"), ("|", "|")])
def test_delimiters_are_sniffed_or_named(tmp_path, delimiter, option):
    text = IRIS.replace(",", delimiter)
    options = {"delimiter": option} if option else {}
    found, data = roundtrip(write(tmp_path, text), "tabular", **options)
    assert found.schema["delimiter"] == delimiter
    assert data.X.shape == (4, 4)


def test_label_column_option_quotes_bom_crlf_and_blank_lines(tmp_path):
    text = '\ufeff"klass","a","b"\r\n\r\n"x, y",1,2\r\nz,3,4\r\n\r\n'
    found, data = roundtrip(write(tmp_path, text), "tabular", label_column="klass")
    assert found.rows == 2 and found.schema["columns"] == ["klass", "a", "b"]
    assert data.class_names == ["x, y", "z"] and data.X.tolist() == [[1, 2], [3, 4]]


def test_the_fast_check_vouches_for_a_good_file_and_agrees_with_the_exact_one(tmp_path):
    """pyarrow checks good files (the 200 MB upload's path); its rows and classes are the exact check's."""
    from app.data.formats import tabular
    from app.data.formats.textio import open_lines, read_header

    rows = "".join(f"{i % 17},{(i * 7) % 17}.5,{' cat ' if i % 3 else 'dog'}\n" for i in range(3000))
    path = write(tmp_path, "a,b,label\n" + rows)
    with open_lines(path, "utf-8") as lines:
        vouched = tabular.fast_tabular(path, "utf-8", read_header(lines, None), 2, [0, 1], tabular.FLOAT32_MAX)
    assert vouched is not None and vouched[0] == 3000
    fast = inspect_upload(path, "tabular", {})
    slow = write(tmp_path, "a,b,label\n" + rows, "latin.csv")  # latin-1 takes the exact path
    assert fast.schema["label"] == inspect_upload(slow, "tabular", {"encoding": "latin-1"}).schema["label"]
    assert fast.schema["label"]["counts"] == {"cat": 2000, "dog": 1000}


@pytest.mark.parametrize("bad", ["1,,x", "1,nan,x", "1,-inf,x", "1,1e39,x", "1,abc,x", "1,2", "1,2, ", "1,2,\"a\nb\""])
def test_the_fast_check_leaves_every_doubt_to_the_exact_one(tmp_path, bad):
    from app.data.formats import tabular
    from app.data.formats.textio import open_lines, read_header

    path = write(tmp_path, "a,b,label\n" + "1,2,x\n3,4,y\n" * 100 + bad + "\n")
    with open_lines(path, "utf-8") as lines:
        assert tabular.fast_tabular(path, "utf-8", read_header(lines, None), 2, [0, 1],
                                    tabular.FLOAT32_MAX) is None


def test_tabular_reports_lines_counting_blank_lines(tmp_path):
    path = write(tmp_path, "a,b,label\n\n1,2,x\n\n1,oops,y\n")
    assert problems(path, "tabular") == {"file": "line 5, column 'b': 'oops' is not a number"}


@pytest.mark.parametrize(("content", "fragment"), [
    ("", "the file is empty: no data rows"),
    ("\n\n  \n", "the file has only blank lines: no data rows"),
    ("a,b,label\n", "the file has a header but no data rows"),
    ("a,b,label\n\n\n", "no data rows"),
])
def test_tabular_without_data_rows(tmp_path, content, fragment):
    assert fragment in problems(write(tmp_path, content), "tabular")["file"]


@pytest.mark.parametrize(("header", "shown"), [("a;b;label", "';'"), ("a\tb\tlabel", "tab")])
def test_wrong_delimiter_is_named(tmp_path, header, shown):
    path = write(tmp_path, f"{header}\n1{header[1]}2{header[1]}x\n")
    fields = problems(path, "tabular", delimiter=",")
    assert fields == {"delimiter": f"the header has one column; the file looks {shown}-delimited: "
                                   f"pass delimiter={shown}"}


def test_missing_label_column(tmp_path):
    fields = problems(write(tmp_path, "a,b,c\n1,2,3\n"), "tabular")
    assert fields == {
        "label_column": "no column 'label' in the header (columns: a, b, c); pass label_column=..."}


def test_row_with_wrong_number_of_fields(tmp_path):
    rows = "".join(f"{i},{i},{i},{i},x\n" for i in range(15))
    path = write(tmp_path, "a,b,c,d,label\n" + rows + "1,2,3,y\n")
    assert problems(path, "tabular") == {"file": "line 17 has 4 fields, the header has 5"}


def test_non_numeric_feature(tmp_path):
    rows = "".join(f"{i},1,1,1,x\n" for i in range(7))
    path = write(tmp_path, IRIS.splitlines()[0] + "\n" + rows + "1,1,1,abc,y\n")
    assert problems(path, "tabular") == {"file": "line 9, column 'petal_width': 'abc' is not a number"}


@pytest.mark.parametrize("value", ["nan", "inf", "-Infinity", "NaN"])
def test_nan_and_inf_features(tmp_path, value):
    path = write(tmp_path, f"a,b,label\n1,2,x\n1,{value},y\n")
    message = problems(path, "tabular")["file"]
    assert message.startswith(f"line 3, column 'b': '{value}' is not a finite number")


def test_empty_and_too_large_features(tmp_path):
    assert problems(write(tmp_path, "a,b,label\n1,,x\n"), "tabular")["file"].startswith(
        "line 2, column 'b' is empty")
    assert "'1e39' is too large" in problems(write(tmp_path, "a,label\n1e39,x\n2,y\n"), "tabular")["file"]


def test_empty_and_overlong_labels(tmp_path):
    path = write(tmp_path, "a,label\n1,x\n2,y\n3, \n")
    assert problems(path, "tabular") == {"file": "line 4: the label is empty (the label column 'label')"}
    path = write(tmp_path, "a,label\n1,x\n2," + "y" * 5000 + "\n")
    assert problems(path, "tabular")["file"].startswith("line 3: the label is 5,000 characters long")


def test_single_class(tmp_path):
    path = write(tmp_path, "a,label\n1,a\n2,a\n")
    assert problems(path, "tabular") == {
        "file": "the label column 'label' has a single class 'a': a classifier needs at least two"}


def test_too_many_classes(tmp_path):
    rows = "".join(f"{i},{i * 0.37}\n" for i in range(1200))
    message = problems(write(tmp_path, "a,label\n" + rows), "tabular")["file"]
    assert "more than 1,000 distinct values" in message


def test_header_problems(tmp_path):
    assert "only the label column" in problems(write(tmp_path, "label\nx\ny\n"), "tabular")["file"]
    assert problems(write(tmp_path, "a,a,label\n1,2,x\n"), "tabular") == {
        "file": "line 1 (the header): column 'a' appears more than once"}
    assert problems(write(tmp_path, "\n,a,label\n1,2,x\n"), "tabular") == {
        "file": "line 2 (the header): column 1 has no name"}


def test_pathological_lines_and_columns(tmp_path):
    long_line = "a,label\n1,x\n" + "1," + "y" * (1024 * 1024 + 10) + "\n"
    assert problems(write(tmp_path, long_line), "tabular") == {
        "file": "line 3 is longer than 1 MiB (1,048,576 characters)"}
    wide = ",".join(f"c{i}" for i in range(10_000)) + ",label\n"
    assert problems(write(tmp_path, wide), "tabular") == {
        "file": "line 1 (the header) has 10,001 columns; at most 10,000 are supported"}


def test_unclosed_quote_names_a_line(tmp_path):
    path = write(tmp_path, 'a,label\n1,x\n2,"y\n' + "3,z\n" * 50_000)
    message = problems(path, "tabular")["file"]
    assert message.startswith("line 3: a field is longer than 131,072 characters")
    assert "quote left open" in message


def test_undecodable_bytes_name_the_line(tmp_path):
    path = write(tmp_path, "a,label\n1,x\n" + "2,y\n" * 9 + "3,caf\xe9\n", encoding="latin-1")
    assert problems(path, "tabular") == {"file": "line 12 is not valid utf-8 (byte 0xe9 at position 5); "
                                                 "pass encoding=latin-1 (or the file's encoding)"}
    found, data = roundtrip(path, "tabular", encoding="auto")
    assert found.schema["encoding"] == "latin-1" and "café" in data.class_names
    assert inspect_upload(path, "tabular", {"encoding": "latin-1"}).schema["encoding"] == "latin-1"
    assert inspect_upload(path, "tabular", {"encoding": "cp1252"}).schema["encoding"] == "cp1252"


def test_auto_keeps_utf8_when_the_file_is_utf8(tmp_path):
    found, data = roundtrip(write(tmp_path, "a,label\n1,café\n2,thé\n"), "tabular", encoding="auto")
    assert found.schema["encoding"] == "utf-8" and data.class_names == ["café", "thé"]


def test_utf16_with_auto_or_explicit_encoding(tmp_path):
    path = write(tmp_path, IRIS, encoding="utf-16")
    assert "NUL bytes" in problems(path, "tabular")["file"]
    for encoding in ("auto", "utf-16"):
        found, data = roundtrip(path, "tabular", encoding=encoding)
        assert found.schema["encoding"] == "utf-16" and data.X.shape == (4, 4)
    no_bom = write(tmp_path, IRIS, encoding="utf-16-le")
    assert problems(no_bom, "tabular", encoding="utf-16")["file"].endswith(
        "pass encoding=utf-16-le or utf-16-be")


@pytest.mark.parametrize(("content", "fragment"), [
    (b"PK\x03\x04rest of an xlsx", "a zip archive (an Excel workbook?): export it as CSV"),
    (b"\x1f\x8b\x08gz", "gzip-compressed"),
    (b"a,label\n1,\x00\n", "contains NUL bytes"),
])
def test_binary_files_are_refused_for_text_kinds(tmp_path, content, fragment):
    for kind in ("tabular", "text", "corpus"):
        assert fragment in problems(write(tmp_path, content), kind)["file"]


def test_a_label_with_a_line_break(tmp_path):
    path = write(tmp_path, 'a,label\n1,x\n2,"y\nz"\n')
    assert problems(path, "tabular")["file"].startswith("line 3: the label contains a line break")


def test_bad_options_are_reported_together(tmp_path):
    fields = problems(write(tmp_path, IRIS), "tabular", encoding="xyz", delimiter=":", sep=",")
    assert fields["encoding"] == "unknown encoding 'xyz'"
    assert fields["delimiter"].startswith("':' is not supported")
    assert fields["sep"].startswith("not an option of tabular uploads")
    assert problems(write(tmp_path, IRIS), "tabular", encoding="base64") == {
        "encoding": "'base64' is not a text encoding"}


def test_blank_options_mean_defaults(tmp_path):
    found = inspect_upload(write(tmp_path, IRIS), "tabular", {"delimiter": "", "label_column": " "})
    assert found.schema["label_column"] == "label"


def test_unknown_kind_and_missing_file(tmp_path):
    assert problems(write(tmp_path, IRIS), "video")["kind"].startswith("unknown dataset kind 'video'")
    assert "no file" in problems(tmp_path / "missing.csv", "tabular")["file"]
    with pytest.raises(Invalid):
        load_upload(write(tmp_path, IRIS), "video", {})


def test_big_csv_is_inspected_streaming(tmp_path):
    path = tmp_path / "big.csv"
    with open(path, "w") as fh:
        fh.write("a,b,c,d,label\n")
        fh.writelines(f"{i * 0.5},{i % 7},{-i},{i / 3:.4f},{'cat' if i % 3 else 'dog'}\n"
                      for i in range(200_000))
    assert path.stat().st_size > 5 * 1024 * 1024
    tracemalloc.start()
    try:
        found = inspect_upload(path, "tabular", {})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert found.rows == 200_000 and found.schema["label"]["counts"] == {"cat": 133_333, "dog": 66_667}
    assert peak < 2 * 1024 * 1024, f"inspection peaked at {peak:,} bytes"


def test_loader_refuses_a_file_changed_since_inspection(tmp_path):
    path = write(tmp_path, IRIS)
    schema = inspect_upload(path, "tabular", {}).schema
    path.write_text(IRIS.replace("sepal_width", "width"))
    assert "not the one that was inspected" in _load_problem(path, "tabular", schema)
    path.write_text(IRIS.replace("virginica", "unseen"))
    assert "'unseen' was not in the file" in _load_problem(path, "tabular", schema)


def _load_problem(path: Path, kind: str, schema: dict) -> str:
    with pytest.raises(Invalid) as caught:
        load_upload(path, kind, schema)
    return caught.value.fields["file"]


# -- text ----------------------------------------------------------------------------------------------

def test_text_csv_happy_path(tmp_path):
    text = 'id,text,label,extra\n1,"great, really great",pos,a\n2,"so\nbad",neg,b\n3,fine,pos,c\n'
    found, data = roundtrip(write(tmp_path, text), "text")
    s = found.schema
    assert found.rows == 3
    assert (s["format"], s["delimiter"], s["encoding"], s["text_column"], s["label_column"]) == (
        "csv", ",", "utf-8", "text", "label")
    assert s["label"]["classes"] == ["neg", "pos"] and s["label"]["counts"] == {"neg": 1, "pos": 2}
    assert s["text_length"]["max"] == len("great, really great")
    assert isinstance(data, TextData)
    assert data.texts == ["great, really great", "so\nbad", "fine"] and data.y.tolist() == [1, 0, 1]


def test_text_custom_columns_and_line_after_a_multiline_field(tmp_path):
    path = write(tmp_path, 'review;stars\n"two\nlines";1\n"";2\n')
    assert problems(path, "text", text_column="review", label_column="stars") == {
        "file": "line 4: the text column 'review' is empty"}


def test_text_missing_columns_are_reported_together(tmp_path):
    fields = problems(write(tmp_path, "a,b\nx,y\n"), "text")
    assert fields["text_column"].startswith("no column 'text' in the header (columns: a, b)")
    assert fields["label_column"].startswith("no column 'label'")
    assert "must differ" in problems(write(tmp_path, "a,b\nx,y\n"), "text", text_column="a",
                                     label_column="a")["label_column"]


def test_text_header_only_and_single_class(tmp_path):
    assert "no data rows" in problems(write(tmp_path, "text,label\n"), "text")["file"]
    assert "has a single class 'pos'" in problems(write(tmp_path, "text,label\nok,pos\n"), "text")["file"]


def test_fasttext_is_detected_or_forced(tmp_path):
    lines = "__label__pos a great film\n\n__label__neg\ta dull film \n__label__pos fun\n"
    found, data = roundtrip(write(tmp_path, lines, "x.txt"), "text")
    assert found.schema["format"] == "fasttext" and found.rows == 3
    assert data.texts == ["a great film", "a dull film", "fun"] and data.class_names == ["neg", "pos"]
    forced = inspect_upload(write(tmp_path, "\n" + lines, "y.txt"), "text", {"format": "FastText"})
    assert forced.schema["format"] == "fasttext"


@pytest.mark.parametrize(("line", "message"), [
    ("just text", "line 2 does not start with __label__<label>"),
    ("__label__ text", "line 2: the label after __label__ is empty"),
    ("__label__pos", "line 2: the text after the label is empty"),
    ("__label__pos __label__neg text", "line 2 has several labels"),
])
def test_fasttext_errors(tmp_path, line, message):
    path = write(tmp_path, f"__label__neg ok\n{line}\n__label__pos fine\n", "x.txt")
    assert problems(path, "text")["file"].startswith(message)


def test_bad_format_option(tmp_path):
    assert problems(write(tmp_path, "text,label\n"), "text", format="xml")["format"].startswith("'xml'")


def test_pang_lee_polarity_is_latin1():
    from gensim.test.utils import datapath

    path = Path(datapath("pang_lee_polarity.cor"))
    for encoding in ("auto", "latin-1"):
        found, data = roundtrip(path, "text", encoding=encoding)
        assert found.rows == 200 and found.schema["encoding"] == "latin-1"
        assert found.schema["format"] == "fasttext"
        assert data.class_names == ["neg", "pos"] and len(data.texts) == 200
        assert np.bincount(data.y).tolist() == [100, 100]
    message = problems(path, "text")["file"]
    assert message.startswith("line 27 is not valid utf-8 (byte 0x97 at position 123)")
    assert "pass encoding=latin-1" in message


# -- corpus --------------------------------------------------------------------------------------------

def test_corpus_happy_path(tmp_path):
    found, data = roundtrip(write(tmp_path, "the cat sat\n\n  the dog  \r\nran\n", "c.txt"), "corpus")
    assert found.rows == 3
    assert found.schema == {"encoding": "utf-8", "rows": 3, "documents": 3, "tokens": 6, "vocabulary": 5,
                            "vocabulary_is_lower_bound": False}
    assert isinstance(data, CorpusData) and data.documents == ["the cat sat", "the dog", "ran"]


@pytest.mark.parametrize(("content", "message"), [
    (b"", "the file is empty: no data rows"),
    (b"\n \n\t\n", "the file has only blank lines: no data rows"),
    (b"fine\nna\xefve\n", "line 2 is not valid utf-8 (byte 0xef at position 2)"),
])
def test_corpus_errors(tmp_path, content, message):
    assert problems(write(tmp_path, content, "c.txt"), "corpus")["file"].startswith(message)


def test_corpus_options(tmp_path):
    path = write(tmp_path, "naïve text\n", "c.txt", encoding="latin-1")
    assert load_upload(path, "corpus", inspect_upload(path, "corpus", {"encoding": "latin1"}).schema
                       ).documents == ["naïve text"]
    assert "not an option of corpus" in problems(path, "corpus", delimiter=",")["delimiter"]


# -- images --------------------------------------------------------------------------------------------

def npz(tmp_path: Path, name: str = "images.npz", compressed: bool = False, **arrays) -> Path:
    path = tmp_path / name
    (np.savez_compressed if compressed else np.savez)(path, **arrays)
    return path


def test_images_grey_with_integer_labels(tmp_path):
    X = np.arange(6 * 8 * 8, dtype=np.uint8).reshape(6, 8, 8)
    found, data = roundtrip(npz(tmp_path, X=X, y=np.array([10, 2, 2, 10, 1, 1])), "images")
    s = found.schema
    assert found.rows == 6 and s["image_shape"] == [8, 8, 1] and s["dtype"] == "uint8"
    assert s["label"]["classes"] == ["1", "2", "10"] and s["label"]["counts"] == {"1": 2, "2": 2, "10": 2}
    assert s["value_range"] == [0.0, 255.0]
    assert isinstance(data, ImageData)
    assert data.X.shape == (6, 8, 8, 1) and data.X.dtype == np.float32
    assert data.y.tolist() == [2, 1, 1, 2, 0, 0] and data.class_names == ["1", "2", "10"]


def test_images_rgb_with_string_labels_compressed(tmp_path):
    X = np.random.default_rng(0).random((4, 5, 7, 3))
    path = npz(tmp_path, compressed=True, X=X, y=np.array(["dog", "cat", "dog", " cat"]))
    found, data = roundtrip(path, "images")
    assert found.schema["image_shape"] == [5, 7, 3] and found.schema["label"]["dtype"] == "str"
    assert data.class_names == ["cat", "dog"] and data.y.tolist() == [1, 0, 1, 0]
    np.testing.assert_allclose(data.X, X.astype(np.float32))


GOOD_X = np.zeros((3, 4, 4))
GOOD_Y = np.array([0, 1, 1])


@pytest.mark.parametrize(("arrays", "message"), [
    ({"X": GOOD_X}, "the .npz has no array 'y' (arrays: X)"),
    ({"images": GOOD_X, "y": GOOD_Y}, "the .npz has no array 'X' (arrays: images, y)"),
    ({"X": np.zeros((100, 4, 4)), "y": np.zeros(99, dtype=int)}, "X has 100 rows, y has 99"),
    ({"X": np.zeros((3, 16)), "y": GOOD_Y}, "X has shape (3, 16); images must be (n, height, width)"),
    ({"X": np.zeros((3, 4, 4, 5)), "y": GOOD_Y}, "X has 5 channels"),
    ({"X": np.zeros((3, 2, 4)), "y": GOOD_Y}, "X's images are 2x4 pixels; height and width must be between"),
    ({"X": np.zeros((3, 4, 513)), "y": GOOD_Y}, "X's images are 4x513 pixels"),
    ({"X": np.zeros((0, 4, 4)), "y": np.zeros(0, dtype=int)}, "X has no images: no data rows"),
    ({"X": np.full((3, 4, 4), "a"), "y": GOOD_Y}, "X has dtype <U1; images must be numbers"),
    ({"X": GOOD_X, "y": GOOD_Y.astype(float)}, "y has dtype float64; labels must be integers or strings"),
    ({"X": GOOD_X, "y": GOOD_Y.reshape(3, 1)}, "y has shape (3, 1); labels must be one-dimensional"),
    ({"X": GOOD_X, "y": np.array([1, 1, 1])}, "y has a single class '1': a classifier needs at least two"),
    ({"X": GOOD_X, "y": np.array(["a", "", "b"])}, "y[1] is an empty label"),
])
def test_image_errors(tmp_path, arrays, message):
    assert problems(npz(tmp_path, **arrays), "images")["file"].startswith(message)


def test_an_npz_zip_bomb_is_refused_before_it_is_read(tmp_path):
    """2,000 blank 64x64 float64 images: 65 MB unpacked from about 64 KB, over 100 times its size."""
    path = npz(tmp_path, compressed=True, X=np.zeros((2000, 64, 64)), y=np.arange(2000) % 2)
    assert path.stat().st_size < 1024 * 1024
    message = problems(path, "images")["file"]
    assert "refused as a zip bomb" in message and "unpack to 65,552,256 bytes" in message


def test_an_npz_with_too_many_images_or_values_is_refused(tmp_path):
    many = npz(tmp_path, "many.npz", compressed=True, X=np.zeros((1_000_001, 3, 3), dtype=np.uint8),
               y=np.zeros(1_000_001, dtype=np.uint8))
    assert problems(many, "images")["file"] == (
        "X declares 1,000,001 images; at most 1,000,000 are accepted per upload")
    big = tmp_path / "big.npz"  # a header that declares 512x512x4 x 300 values: refused from the header alone
    with zipfile.ZipFile(big, "w") as archive:
        with archive.open("X.npy", "w") as fh:
            np.lib.format.write_array_header_1_0(fh, {"descr": "|u1", "fortran_order": False,
                                                      "shape": (300, 512, 512, 4)})
        with archive.open("y.npy", "w") as fh:
            np.lib.format.write_array(fh, np.arange(300) % 2)
    assert problems(big, "images")["file"].startswith("X declares 314,572,800 values (shape (300, 512, 512, 4))")


def test_nan_in_images_names_the_image(tmp_path):
    X = np.zeros((300, 32, 32, 3))
    X[257, 3, 4, 1] = np.nan
    message = problems(npz(tmp_path, X=X, y=np.arange(300) % 2), "images")["file"]
    assert message == "X contains NaN or infinite values (first in image 257, X[257])"
    fortran = npz(tmp_path, "f.npz", X=np.asfortranarray(X), y=np.arange(300) % 2)
    assert "image 257" in problems(fortran, "images")["file"]


@pytest.mark.parametrize(("content", "message"), [
    (b"", "the file is empty"),
    (b"X,y\n1,2\n", "the file is not an .npz archive; save X and y together with numpy.savez"),
    (b"PK\x03\x04 not really a zip", "the file is not a readable .npz archive"),
])
def test_files_that_are_not_npz(tmp_path, content, message):
    assert problems(write(tmp_path, content, "x.npz"), "images")["file"].startswith(message)


def test_a_lone_npy_is_refused(tmp_path):
    np.save(tmp_path / "x.npy", GOOD_X)
    assert "a single .npy array" in problems(tmp_path / "x.npy", "images")["file"]


def test_images_take_no_options(tmp_path):
    path = npz(tmp_path, X=GOOD_X, y=GOOD_Y)
    assert problems(path, "images", encoding="utf-8") == {
        "encoding": "not an option of images uploads (options: none)"}
    assert UPLOAD_OPTIONS["images"] == ()


def _touch(path: str) -> str:
    Path(path).write_text("unpickled!")
    return path


class Trap:
    """Unpickling this object writes a marker file: proof that user data was unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return _touch, (str(self.marker),)


@pytest.mark.parametrize("bad", ["X", "y"])
def test_object_arrays_are_refused_and_never_unpickled(tmp_path, monkeypatch, bad):
    marker = tmp_path / "marker"
    arrays = {"X": GOOD_X, "y": GOOD_Y}
    arrays[bad] = np.array([Trap(marker)] * 3, dtype=object)
    path = npz(tmp_path, **arrays)
    forged = {"image_shape": [4, 4, 1], "label": {"classes": ["0", "1"]}}

    def no_unpickling(*args, **kwargs):
        raise AssertionError("user data was unpickled")

    with monkeypatch.context() as patched:
        patched.setattr(pickle, "load", no_unpickling)
        patched.setattr(pickle, "loads", no_unpickling)
        assert problems(path, "images")["file"].startswith(f"{bad} is an object array")
        assert _load_problem(path, "images", forged).startswith(f"{bad} is an object array")
    assert not marker.exists()
    np.load(path, allow_pickle=True)[bad]  # the control: unpickling really would have run the trap
    assert marker.exists()


def test_images_zip_members_are_read_by_name(tmp_path):
    path = npz(tmp_path, X=GOOD_X, y=GOOD_Y, extra=np.array([Trap(tmp_path / "m")], dtype=object))
    with zipfile.ZipFile(path) as archive:
        assert "extra.npy" in archive.namelist()
    found, data = roundtrip(path, "images")  # an unrelated object array is never touched
    assert found.rows == 3 and data.X.shape == (3, 4, 4, 1) and not (tmp_path / "m").exists()
