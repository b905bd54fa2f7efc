import gzip
import json
from pathlib import Path

import pyarrow as pa
import pytest

from journey.ingest.readers import (
    ReadLimits,
    UnreadableFile,
    detect_encoding,
    json_depth,
    plausible_gb18030,
    read_csv,
    read_lines,
)


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


# --- issue #21: gzip, encodings with evidence, limits before parsing, CSV records ----------------
def test_gzip_is_read_by_its_magic_bytes_whatever_the_name(tmp_path: Path) -> None:
    path = tmp_path / "Encounter.002.ndjson.gz"
    path.write_bytes(gzip.compress(b'{"a":1}\n\n{"b":"\xe7\xad\x89"}\n'))
    assert detect_encoding(path) == "utf-8"
    assert _lines(path) == [(1, '{"a":1}'), (3, '{"b":"等"}')]
    renamed = tmp_path / "export_7.ndjson"  # gzip bytes under a plain name: still gzip
    renamed.write_bytes(path.read_bytes())
    assert _lines(renamed) == _lines(path)


def test_gzip_is_streamed_across_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import journey.ingest.readers as readers

    monkeypatch.setattr(readers, "_CHUNK", 7)
    path = tmp_path / "t.jsonl.gz"
    path.write_bytes(gzip.compress("".join(f'{{"n":{i}}}\n' for i in range(1, 31)).encode()))
    assert [n for n, _ in _lines(path)] == list(range(1, 31))


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_truncated_gzip_is_refused_as_corrupt(tmp_path: Path, cut: float) -> None:
    data = gzip.compress("".join(f'{{"n":{i},"pad":"{"x" * (i % 50)}"}}\n' for i in range(3000)).encode())
    path = tmp_path / "t.ndjson.gz"
    path.write_bytes(data[: int(len(data) * cut)])
    with pytest.raises(UnreadableFile) as caught:
        detect_encoding(path)
    assert caught.value.rule == "corrupt_gzip" and "gzip" in caught.value.reason


def test_corrupt_gzip_body_is_refused(tmp_path: Path) -> None:
    data = bytearray(gzip.compress(b'{"a":1}\n' * 500))
    data[20:40] = b"\x00" * 20
    path = tmp_path / "t.csv.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(UnreadableFile) as caught:
        detect_encoding(path)
    assert caught.value.rule == "corrupt_gzip"


# Texts GB18030 decodes strictly into mojibake (checked: each decodes without error).
NOT_GB18030 = {
    "latin-1 German": ("name\nFrau Müller\nHerr Jäger aus Köln\n", "latin-1"),
    "latin-1 French": ("nom\nFrançois Lefèvre, très bien\n", "latin-1"),
    "big5 Chinese": ("急診科 患者 等候時間太長 醫生態度很好 護士說明清楚\n", "big5"),
    "shift-jis Japanese": ("救急外来 患者 待ち時間が長すぎる 医師の説明は丁寧でした\n", "shift_jis"),
}


@pytest.mark.parametrize("name", sorted(NOT_GB18030))
def test_gb18030_needs_plausible_chinese_not_any_strict_decode(tmp_path: Path, name: str) -> None:
    text, encoding = NOT_GB18030[name]
    data = text.encode(encoding)
    data.decode("gb18030")  # the trap: a strict decode succeeds
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    with pytest.raises(UnreadableFile) as caught:
        detect_encoding(path)
    assert caught.value.rule == "unknown_encoding"
    assert "UTF-8" in caught.value.reason and "GB18030" in caught.value.reason


def test_genuine_gb18030_hospital_text_is_plausible(tmp_path: Path) -> None:
    text = "complaint_id,description\nc1,急诊科 患者 等候时间太长，医生态度很好。\nc2,护士说明清楚！（门诊）\n"
    assert plausible_gb18030(text) is None
    path = tmp_path / "g.csv"
    path.write_bytes(text.encode("gb18030"))
    assert detect_encoding(path) == "gb18030"


def test_utf16_with_a_bom_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    path.write_bytes("a,b\n1,等了很久\n".encode("utf-16"))
    assert detect_encoding(path) == "utf-16"
    parsed = read_csv(path, "utf-16", ("a", "b"))
    assert parsed.rows["b"].to_pylist() == ["等了很久"] and parsed.header == ("a", "b")


def test_json_depth_ignores_brackets_inside_strings() -> None:
    assert json_depth('{"a":[1,{"b":"[[[["}],"c":"\\"{{"}') == 3
    assert json_depth("[" * 100 + "]" * 100) == 100
    assert json_depth('"' + "[" * 100 + '"') == 0


def test_a_line_nested_too_deep_is_marked_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "n.ndjson"
    deep = '{"a":' * 20_000 + "1" + "}" * 20_000
    bracketed_text = json.dumps({"resourceType": "Basic", "note": "[" * 500})
    path.write_text(f'{{"a":1}}\n{deep}\n{bracketed_text}\n', encoding="utf-8")
    table = pa.concat_tables(list(read_lines(path, "utf-8", ReadLimits(max_json_depth=64))))
    assert table["rule"].to_pylist() == [None, "too_deeply_nested", None]


def test_a_line_over_the_size_limit_is_marked_and_not_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import journey.ingest.readers as readers

    monkeypatch.setattr(readers, "_CHUNK", 1024)
    path = tmp_path / "l.ndjson"
    path.write_text('{"a":1}\n{"big":"' + "x" * 5000 + '"}\n{"b":2}\n{"c":"' + "y" * 1500 + '"}', encoding="utf-8")
    table = pa.concat_tables(list(read_lines(path, "utf-8", ReadLimits(max_line_bytes=1200))))
    assert table["_row_number"].to_pylist() == [1, 2, 3, 4]
    assert table["rule"].to_pylist() == [None, "line_too_long", None, "line_too_long"]
    assert table["line"].to_pylist()[:3] == ['{"a":1}', None, '{"b":2}']


def test_csv_header_only_without_newline_has_no_records(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("a,b,c", encoding="utf-8")
    parsed = read_csv(path, "utf-8", ("a", "b"))
    assert parsed.rows.num_rows == 0 and parsed.header == ("a", "b", "c")


def test_csv_header_naming_a_column_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("complaint_id,category,received_at,category\nc1,waiting,2026-01-05,other\n", encoding="utf-8")
    with pytest.raises(UnreadableFile) as caught:
        read_csv(path, "utf-8", ("complaint_id", "category"))
    assert caught.value.rule == "duplicate_column" and "'category'" in caught.value.reason


def test_csv_rows_are_records_quoted_newlines_included(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text('id,text,n\n1,"first line\nsecond line",2\n3,4\n5,"a ""quoted""\nword",6\n', encoding="utf-8")
    parsed = read_csv(path, "utf-8", ("id", "text", "n"))
    assert parsed.rows["_row_number"].to_pylist() == [1, 3]
    assert parsed.rows["text"].to_pylist() == ["first line\nsecond line", 'a "quoted"\nword']
    assert parsed.malformed["_row_number"].to_pylist() == [2]


@pytest.mark.parametrize("body", [
    '1,2,"never closed\n4,5,6\n7,8,9\n',     # the last column swallows every record after it
    '1,"never closed,3\n4,5,6\n7,8,9\n',     # a middle column: one malformed row holding three records
])
def test_csv_unterminated_quote_is_refused_never_merged(tmp_path: Path, body: str) -> None:
    path = tmp_path / "u.csv"
    path.write_text("a,b,c\n" + body, encoding="utf-8")
    with pytest.raises(UnreadableFile) as caught:
        read_csv(path, "utf-8", ("a", "b", "c"))
    assert caught.value.rule == "unterminated_quote" and "data row 1" in caught.value.reason


def test_csv_gz_is_streamed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import journey.ingest.readers as readers

    monkeypatch.setattr(readers, "_CHUNK", 64)
    path = tmp_path / "c.csv.gz"
    path.write_bytes(gzip.compress(("a,b\n" + "".join(f"{i},text {i}\n" for i in range(1, 201))).encode()))
    parsed = read_csv(path, detect_encoding(path), ("a", "b"))
    assert parsed.rows["_row_number"].to_pylist() == list(range(1, 201))
    assert parsed.rows["a"].to_pylist()[-1] == "200"
