from pathlib import Path

import pyarrow as pa
import pytest

from journey.ingest.readers import UnreadableFile, detect_encoding, read_csv, read_lines


def _lines(path: Path, encoding: str = "utf-8") -> list[tuple[int, str]]:
    table = pa.concat_tables(list(read_lines(path, encoding)))
    return list(zip(table["_row_number"].to_pylist(), table["line"].to_pylist(), strict=True))


def test_lines_keep_physical_numbers_and_skip_blanks(tmp_path: Path) -> None:
    path = tmp_path / "a.ndjson"
    path.write_bytes(b'{"a":1}\r\n\n  \n{"b":2}\n{"c":3}')
    assert _lines(path) == [(1, '{"a":1}'), (4, '{"b":2}'), (5, '{"c":3}')]


def test_lines_across_chunk_boundaries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import journey.ingest.readers as readers

    monkeypatch.setattr(readers, "_CHUNK", 7)
    path = tmp_path / "a.ndjson"
    path.write_text("".join(f'{{"n":{i}}}\n' for i in range(1, 31)), encoding="utf-8")
    got = _lines(path)
    assert [n for n, _ in got] == list(range(1, 31))
    assert got[29] == (30, '{"n":30}')


def test_blank_means_only_whitespace_of_any_kind(tmp_path: Path) -> None:
    path = tmp_path / "w.ndjson"
    path.write_text('\u3000\t\n  {"a":1}\n{"b":2}\r\n\r\n{"c":3}', encoding="utf-8")
    assert _lines(path) == [(2, '  {"a":1}'), (3, '{"b":2}'), (5, '{"c":3}')]


def test_gb18030_lines_across_chunk_boundaries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import journey.ingest.readers as readers

    monkeypatch.setattr(readers, "_CHUNK", 5)
    path = tmp_path / "g.ndjson"
    path.write_bytes("".join(f'{{"t":"等了{i}"}}\n' for i in range(1, 8)).encode("gb18030") + b"\n")
    assert _lines(path, "gb18030") == [(i, f'{{"t":"等了{i}"}}') for i in range(1, 8)]


def test_gb18030_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes("id,text\n1,等了很久\n".encode("gb18030"))
    assert detect_encoding(path) == "gb18030"
    (tmp_path / "u.csv").write_text("id,text\n1,等了很久\n", encoding="utf-8")
    assert detect_encoding(tmp_path / "u.csv") == "utf-8"


def test_undecodable_bytes_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"id\n\xff\xfe\xfa\x80\x81\n")
    with pytest.raises(UnreadableFile, match="UTF-8"):
        detect_encoding(path)


def test_csv_rows_numbered_and_malformed_rows_separated(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("a,b,c\n1,2,3\n4,5\n7,8,9\n", encoding="utf-8")
    parsed = read_csv(path, "utf-8", ("a", "b", "c", "d"))
    assert parsed.rows["_row_number"].to_pylist() == [1, 3]
    assert parsed.rows["a"].to_pylist() == ["1", "7"]
    assert parsed.rows["d"].to_pylist() == [None, None]
    assert parsed.malformed["_row_number"].to_pylist() == [2]
    assert parsed.header == ("a", "b", "c")


def test_csv_empty_file_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("\n", encoding="utf-8")
    with pytest.raises(UnreadableFile, match="empty"):
        read_csv(path, "utf-8", ("a",))
