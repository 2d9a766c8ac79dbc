"""European CSVs (decimal commas) and compressed uploads, at the data layer: no app, no database."""
from __future__ import annotations

import gzip
import io

import numpy as np
import pytest

from app.data.formats.compressed import Capped, TooLargeUnpacked, compression_of, open_unpacked, unpacked_limit
from app.data.uploads import inspect_upload, load_upload
from app.domain.errors import Invalid

EURO = "alcohol;acidity;label\n14,23;1,71;a\n13,2;-1,78;b\n12;2,5e1;a\n"


def _write(tmp_path, text: str):
    path = tmp_path / "upload.csv"
    path.write_text(text, encoding="utf-8")
    return path


def _problem(path, **options) -> dict[str, str]:
    with pytest.raises(Invalid) as caught:
        inspect_upload(path, "tabular", options)
    return caught.value.fields


@pytest.mark.parametrize("options", [{}, {"decimal": ","}, {"decimal": "comma", "delimiter": "semicolon"}])
def test_decimal_commas_are_detected_or_named_and_loaded_the_same(tmp_path, options):
    path = _write(tmp_path, EURO)
    found = inspect_upload(path, "tabular", options)
    assert (found.schema["delimiter"], found.schema["decimal"], found.rows) == (";", ",", 3)
    assert found.schema.get("decimal_detected", False) is (not options)
    data = load_upload(path, "tabular", found.schema)
    assert data.X.ravel().tolist() == pytest.approx([14.23, 1.71, 13.2, -1.78, 12.0, 25.0])


def test_a_decimal_comma_refused_by_decimal_point_names_the_option(tmp_path):
    fields = _problem(_write(tmp_path, EURO), decimal=".")
    assert "'14,23'" in fields["file"] and "decimal=','" in fields["file"]
    quoted = _write(tmp_path, 'alcohol,label\n"14,23",a\n"1,5",b\n')  # ',' delimited: never guessed
    assert "pass decimal=','" in _problem(quoted)["file"]


def test_a_point_under_decimal_comma_and_a_bad_option_are_refused(tmp_path):
    fields = _problem(_write(tmp_path, "x;label\n1,5;a\n1.5;b\n"), decimal=",")
    assert "line 3" in fields["file"] and "'.' is not allowed" in fields["file"]
    assert "use '.' or ','" in _problem(_write(tmp_path, EURO), decimal=";")["decimal"]


def test_the_fast_path_reads_decimal_commas_like_the_exact_one(tmp_path):
    rng = np.random.default_rng(0)
    rows = [f"{a:.3f};{b:.3f};{'ab'[i % 2]}".replace(".", ",") for i, (a, b) in enumerate(rng.normal(size=(500, 2)))]
    path = _write(tmp_path, "a;b;label\n" + "\n".join(rows) + "\n")
    found = inspect_upload(path, "tabular", {})
    assert found.rows == 500 and found.schema["label"]["counts"] == {"a": 250, "b": 250}
    assert load_upload(path, "tabular", found.schema).X.shape == (500, 2)


def test_compressions_are_recognised_and_bounded():
    assert [compression_of(h) for h in (b"\x1f\x8b\x08", b"BZh9", b"\xfd7zXZ\x00", b"PK\x03\x04", b"a,b")] == [
        "gzip", "bzip2", "xz", "zip", None]
    assert unpacked_limit(1000, 10**9) == 16 * 1024 * 1024 and unpacked_limit(10**6, 10**9) == 10**8
    assert unpacked_limit(10**6, 5 * 10**7) == 5 * 10**7


def _drain(data: bytes, limit: int, max_bytes: int) -> None:
    with open_unpacked(io.BytesIO(data), "gzip") as stream:
        capped = Capped(stream, limit, len(data), max_bytes, "gzip")
        while capped.read(1 << 16):
            pass


def test_a_bomb_is_a_422_and_past_the_upload_limit_a_413():
    bomb = gzip.compress(b"0" * (4 << 20))
    with pytest.raises(Invalid) as caught:
        _drain(bomb, 1 << 20, 10**9)
    assert "compression bomb" in caught.value.fields["file"] and caught.value.status_code == 422
    with pytest.raises(TooLargeUnpacked) as caught:
        _drain(bomb, 1 << 20, 1 << 20)
    assert "upload limit" in caught.value.fields["file"] and caught.value.status_code == 413
    with pytest.raises(Invalid, match="damaged or truncated"):
        _drain(bomb[:100], 1 << 20, 10**9)
