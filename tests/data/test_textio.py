"""Locating undecodable bytes across read chunks, and sniffing delimiters."""
from __future__ import annotations

import pytest

from app.data.formats.textio import CHUNK, find_decode_error, parse_delimiter, parse_encoding, sniff_delimiter
from app.domain.errors import Invalid


def _lines_up_to(size: int) -> bytes:
    """Lines of 'ab\\n' padded with 'c' to exactly ``size`` bytes (the last line unfinished)."""
    body = b"ab\n" * (size // 3)
    return body + b"c" * (size - len(body))


def test_a_character_split_across_chunks_is_fine(tmp_path):
    path = tmp_path / "f.txt"
    path.write_bytes(_lines_up_to(CHUNK - 1) + "é\n".encode())
    assert find_decode_error(path, "utf-8") is None


def test_a_bad_sequence_split_across_chunks_is_located(tmp_path):
    head = _lines_up_to(CHUNK - 1)
    path = tmp_path / "f.txt"
    path.write_bytes(head + b"\xc3x\n")
    line = head.count(b"\n") + 1
    column = len(head) - head.rfind(b"\n") - 1
    assert find_decode_error(path, "utf-8") == (line, column, 0xC3)


def test_an_error_in_a_later_chunk_and_at_the_very_end(tmp_path):
    path = tmp_path / "f.txt"
    path.write_bytes(b"0123456789\n" * 200_000 + b"abc\xff\n")
    assert find_decode_error(path, "utf-8") == (200_001, 3, 0xFF)
    path.write_bytes(b"ok\n\xc3")
    assert find_decode_error(path, "utf-8") == (2, 0, 0xC3)


def test_sniffing_picks_the_delimiter_that_splits_most():
    assert sniff_delimiter("a;b;c,d\n") == ";"
    assert sniff_delimiter('"x;y",b\n') == ","
    assert sniff_delimiter("single\n") == ","


def test_option_parsers():
    assert parse_delimiter("TAB") == "\t" and parse_delimiter("pipe") == "|"
    assert parse_encoding("UTF8") == "utf-8" and parse_encoding("Auto") == "auto"
    assert parse_encoding("latin1") == "latin-1"
    with pytest.raises(Invalid) as caught:
        parse_encoding("xyz")
    assert caught.value.fields == {"encoding": "unknown encoding 'xyz'"}
