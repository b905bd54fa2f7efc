"""The loader on hand-made drops: counts reconcile, identifiers never land, bad rows are quarantined."""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from journey.config import Settings
from journey.ingest.landing import LandedFile, discover
from journey.ingest.loader import FileLoad, already_loaded, load_file
from journey.ingest.readers import ReadLimits
from journey.warehouse.manifest import ManifestEntry

DAY = date(2026, 1, 5)
PATIENT = {
    "resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1990-03-07",
    "name": [{"text": "Wang Xiaohong"}], "telecom": [{"system": "phone", "value": "13812345678"}],
    "identifier": [{"system": "urn:oid:2.16.156.10011.1.1", "value": "110101199003071234"}],
    "address": [{"line": ["88 Jianguo Road"], "city": "Beijing", "district": "Chaoyang"}],
}
ENCOUNTER = {
    "resourceType": "Encounter", "id": "e1", "status": "finished", "class": {"code": "EMER"},
    "subject": {"reference": "Patient/p1", "display": "Wang Xiaohong"},
}
IDENTIFIERS = ("Wang Xiaohong", "13812345678", "110101199003071234", "88 Jianguo Road", "1990-03-07")


def _drop(landing: Path, source: str, name: str, content: str | bytes) -> None:
    folder = landing / source / DAY.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    data = content.encode("utf-8") if isinstance(content, str) else content
    (folder / name).write_bytes(data)


def _load_all(conn: duckdb.DuckDBPyConnection, landing: Path) -> dict[str, FileLoad]:
    return {
        f.path.name: load_file(conn, f, run_id="r1", loaded_at=datetime(2026, 1, 6))
        for f in discover(landing, [DAY])
    }


def _all_text(conn: duckdb.DuckDBPyConnection) -> str:
    parts = []
    for schema, table in conn.execute(
        "select table_schema, table_name from information_schema.tables where table_schema in ('raw', 'quarantine')"
    ).fetchall():
        parts.append(json.dumps(conn.execute(f"select * from {schema}.{table}").fetchall(), default=str))
    return "\n".join(parts)


def test_fhir_file_counts_reconcile_and_types_come_from_content(conn, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    lines = [
        json.dumps(PATIENT),
        json.dumps(ENCOUNTER),
        "",
        json.dumps(
            {"resourceType": "Encounter", "id": "e2", "status": "finished", "subject": {"reference": "Patient/p1"}}
        ),
        '{"resourceType":"Encounter","id":"e3",',
        json.dumps({"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"}}),
        json.dumps(["not", "an", "object"]),
    ]
    _drop(landing, "ehr", "export_7.ndjson", "\n".join(lines) + "\n")
    result = _load_all(conn, landing)["export_7.ndjson"]
    # 6 non-blank lines: Patient + Encounter e1 loaded, Condition loaded as skipped, 3 quarantined
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined, result.rows_skipped_types) == (6, 3, 3, 1)
    assert result.rows_read == result.rows_loaded + result.rows_quarantined
    assert result.status == "partial"
    rules = conn.execute("select _row_number, rule from quarantine.rows order by 1").fetchall()
    assert rules == [(4, "required:class.code"), (5, "malformed_json"), (7, "not_a_json_object")]
    assert conn.execute("select resource_type, resource_id from raw.ehr_other").fetchall() == [("Condition", "c1")]
    manifest = conn.execute("select rows_read, rows_loaded, rows_quarantined, status from raw.load_manifest").fetchall()
    assert manifest == [(6, 3, 3, "partial")]


def test_patient_identifiers_never_reach_raw_or_quarantine(conn, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    broken_patient = json.dumps(PATIENT)[:-20]  # malformed line full of PII
    _drop(landing, "ehr", "Patient.ndjson", json.dumps(PATIENT) + "\n" + broken_patient + "\n")
    _drop(landing, "ehr", "Encounter.ndjson", json.dumps(ENCOUNTER) + "\n")
    _load_all(conn, landing)
    text = _all_text(conn)
    for identifier in IDENTIFIERS + ("Patient/p1\"",):
        assert identifier not in text
    key = conn.execute("select resource_id from raw.ehr_patient").fetchone()[0]
    patient = json.loads(conn.execute("select resource from raw.ehr_patient").fetchone()[0])
    journey = patient["_journey"]
    assert {k: journey[k] for k in ("birthYear", "region")} == {"birthYear": 1990, "region": "Chaoyang"}
    # the one identifier is kept only as 64-hex keys (system|value and |value), to resolve
    # Patient?identifier= references with or without a system
    assert len(journey["identifierKeys"]) == 2 and all(len(key) == 64 for key in journey["identifierKeys"])
    assert patient["id"] == key and len(key) == 64
    encounter = json.loads(conn.execute("select resource from raw.ehr_encounter").fetchone()[0])
    assert encounter["subject"] == {"reference": f"Patient/{key}"}  # same key across resources, no display


def test_csv_in_gb18030_is_decoded_and_bad_rows_quarantined(conn, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    csv_text = (
        "complaint_id,patient_id,encounter_id,department,received_at,first_response_at,resolved_at,category,"
        "channel,description\n"
        "c1,p1,e1,emergency,2026-01-05 09:00,,,waiting,phone,等了三个小时 请回电13812345678\n"
        "c2,p1,e1\n"
        "c3,p1,e1,emergency,,,,waiting,phone,没有时间\n"
    )
    _drop(landing, "relations", "complaints.csv", csv_text.encode("gb18030"))
    result = _load_all(conn, landing)["complaints.csv"]
    assert (result.encoding, result.rows_read, result.rows_loaded, result.rows_quarantined) == ("gb18030", 3, 1, 2)
    row = conn.execute("select complaint_id, description, patient_id from raw.relations_complaints").fetchone()
    assert row[0] == "c1" and row[1] == "等了三个小时 请回电[phone]" and len(row[2]) == 64
    rules = conn.execute("select _row_number, rule from quarantine.rows order by 1").fetchall()
    assert rules == [(2, "malformed_csv_row"), (3, "required:received_at")]


def test_unreadable_and_unknown_files_are_recorded_not_fatal(conn, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    _drop(landing, "crm", "campaigns.csv", b"")
    _drop(landing, "crm", "notes.txt", "hello")
    _drop(landing, "crm", "touches.jsonl", b"\xff\xfe\x00garbage\x81\n")
    loads = _load_all(conn, landing)
    assert (loads["campaigns.csv"].status, loads["campaigns.csv"].reason) == ("empty", "empty file (0 bytes)")
    assert "notes.txt" not in loads  # refused by discovery, named in raw.files_not_loaded (test_landing)
    assert loads["touches.jsonl"].status == "rejected"
    assert conn.execute("select count(*) from raw.load_manifest").fetchone() == (2,)
    assert conn.execute("select count(*) from quarantine.rows where rule = 'unknown_encoding'").fetchone() == (1,)


def test_same_file_same_batch_id(conn, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    _drop(landing, "ehr", "Encounter.ndjson", json.dumps(ENCOUNTER) + "\n")
    first = discover(landing, [DAY])[0]
    again = discover(landing, [DAY])[0]
    from journey.ingest.loader import batch_id_for

    assert batch_id_for(first) == batch_id_for(again)
    _drop(landing, "ehr", "Encounter.ndjson", json.dumps({**ENCOUNTER, "status": "cancelled"}) + "\n")
    assert batch_id_for(discover(landing, [DAY])[0]) != batch_id_for(first)


def test_full_width_and_mixed_width_numbers_are_scrubbed_in_every_free_text(conn, tmp_path: Path) -> None:
    """Complaint text (CSV), review text (JSONL) and a survey comment (FHIR): the real loader scrubs
    numbers typed in full width or mixed widths, and leaves a text without one exactly as landed."""
    landing = tmp_path / "landing"
    _drop(landing, "relations", "complaints.csv",
          "complaint_id,patient_id,received_at,description\n"
          "c1,p1,2026-01-05 09:00,等了三个小时 请回电１３８１２３４５６７８（急）\n"
          "c2,p1,2026-01-05 10:00,等了１３８分钟（急诊）\n")
    review = {"review_id": "r1", "rating": "1", "posted_at": "2026-01-05 11:00",
              "text": "身份证１１０１０１１９９００３０７１２３Ｘ，电话138－1234－5678"}
    _drop(landing, "relations", "reviews.jsonl", json.dumps(review, ensure_ascii=False) + "\n")
    survey = {"resourceType": "QuestionnaireResponse", "id": "q1", "encounter": {"reference": "Encounter/e1"},
              "item": [{"linkId": "comment", "answer": [{"valueString": "加我微信或打１８６　１２３４　５６７８"}]}]}
    _drop(landing, "ehr", "QuestionnaireResponse.ndjson", json.dumps(survey, ensure_ascii=False) + "\n")
    _load_all(conn, landing)
    complaints = conn.execute("select description from raw.relations_complaints order by complaint_id").fetchall()
    assert complaints == [("等了三个小时 请回电[phone](急)",), ("等了１３８分钟（急诊）",)]
    assert conn.execute("select text from raw.relations_reviews").fetchone() == ("身份证[id]，电话[phone]",)
    comment = conn.execute("select resource ->> '$.item[0].answer[0].valueString' from raw.ehr_questionnaire_response")
    assert comment.fetchone() == ("加我微信或打[phone]",)


# A bulk export's error file holds OperationOutcome resources (FHIR Bulk Data Access, "error" array);
# some servers also write their own log lines to log.ndjson (no resourceType).
OPERATION_OUTCOME = {
    "resourceType": "OperationOutcome", "id": "oo1",
    "issue": [{"severity": "error", "code": "processing",
               "details": {"text": "An internal timeout has occurred"}}],
}
LOG_LINES = [
    {"time": "2026-01-05T02:00:01Z", "level": "info", "message": "export started"},
    {"time": "2026-01-05T02:04:10Z", "level": "warning", "message": "3 resources could not be read"},
    # the event-record shape some bulk exports log in (no message, no level)
    {"eventId": "export_complete", "eventDetail": {"files": 6, "resources": 3245}},
]


def test_export_logs_and_operation_outcomes_are_skipped_with_their_kind(conn, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    _drop(landing, "ehr", "log.ndjson", "".join(json.dumps(line) + "\n" for line in LOG_LINES))
    _drop(landing, "ehr", "OperationOutcome.ndjson", json.dumps(OPERATION_OUTCOME) + "\n")
    mixed = [ENCOUNTER, LOG_LINES[0], OPERATION_OUTCOME, {"id": "e9", "status": "finished"}]
    _drop(landing, "ehr", "export_1.ndjson", "".join(json.dumps(line) + "\n" for line in mixed))
    loads = _load_all(conn, landing)

    log_file = loads["log.ndjson"]
    assert (log_file.rows_read, log_file.rows_loaded, log_file.rows_quarantined, log_file.rows_skipped_types) == (
        3, 3, 0, 3)
    assert (log_file.status, log_file.reason) == ("loaded", "skipped: 3 export_log")
    assert json.loads(log_file.skipped_kinds or "") == {"export_log": 3}
    outcome = loads["OperationOutcome.ndjson"]
    assert (outcome.rows_skipped_types, outcome.rows_quarantined, outcome.status) == (1, 0, "loaded")
    assert json.loads(outcome.skipped_kinds or "") == {"OperationOutcome": 1}
    # The mixed file still loads its Encounter; a resource that lost its type (it has an id) is still refused.
    mixed_load = loads["export_1.ndjson"]
    assert (mixed_load.rows_read, mixed_load.rows_loaded, mixed_load.rows_quarantined,
            mixed_load.rows_skipped_types) == (4, 3, 1, 2)
    assert json.loads(mixed_load.skipped_kinds or "") == {"OperationOutcome": 1, "export_log": 1}
    assert conn.execute("select resource_id from raw.ehr_encounter").fetchall() == [("e1",)]
    assert conn.execute("select _source_file, _row_number, rule from quarantine.rows").fetchall() == [
        (f"ehr/{DAY}/export_1.ndjson", 4, "missing_resource_type")]
    assert conn.execute(
        "select regexp_replace(_source_file, '.*/', ''), _row_number, resource_type, resource_id, kind "
        "from raw.ehr_other order by 1, 2"
    ).fetchall() == [
        ("OperationOutcome.ndjson", 1, "OperationOutcome", "oo1", "operation_outcome"),
        ("export_1.ndjson", 2, None, None, "export_log"),
        ("export_1.ndjson", 3, "OperationOutcome", "oo1", "operation_outcome"),
        ("log.ndjson", 1, None, None, "export_log"),
        ("log.ndjson", 2, None, None, "export_log"),
        ("log.ndjson", 3, None, None, "export_log"),
    ]
    manifest = conn.execute(
        "select regexp_replace(path, '.*/', ''), skipped_kinds from raw.load_manifest order by 1").fetchall()
    assert [(name, json.loads(kinds)) for name, kinds in manifest] == [
        ("OperationOutcome.ndjson", {"OperationOutcome": 1}),
        ("export_1.ndjson", {"OperationOutcome": 1, "export_log": 1}),
        ("log.ndjson", {"export_log": 3}),
    ]


# --- issue #21: one bad file never blocks the others; records, not lines; encodings; gzip ---------
COMPLAINTS_HEADER = ("complaint_id,patient_id,encounter_id,department,received_at,first_response_at,resolved_at,"
                     "category,channel,description\n")


def _landed(tmp_path: Path, source: str, name: str, content: bytes) -> LandedFile:
    """A LandedFile built by hand (discovery of these names is another slice's business)."""
    folder = tmp_path / "landing" / source / DAY.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content)
    stat = path.stat()
    return LandedFile(source=source, landing_date=DAY, path=path, relative_path=f"{source}/{DAY}/{name}",
                      size_bytes=stat.st_size, sha256=hashlib.sha256(content).hexdigest())


def _load(conn: duckdb.DuckDBPyConnection, landed: LandedFile) -> FileLoad:
    return load_file(conn, landed, run_id="r1", loaded_at=datetime(2026, 1, 6))


def _quarantine(conn: duckdb.DuckDBPyConnection) -> list[tuple[int, str]]:
    return conn.execute("select _row_number, rule from quarantine.rows order by 1, 2").fetchall()


def _counts(result: FileLoad) -> tuple[int, int, int]:
    return result.rows_read, result.rows_loaded, result.rows_quarantined


def test_gzipped_ndjson_is_loaded_and_hashed_as_landed(conn, tmp_path: Path) -> None:
    data = gzip.compress((json.dumps(ENCOUNTER) + "\n" + json.dumps({**ENCOUNTER, "id": "e2"}) + "\n").encode())
    landed = _landed(tmp_path, "ehr", "Encounter.002.ndjson.gz", data)
    result = _load(conn, landed)
    assert (result.status, _counts(result)) == ("loaded", (2, 2, 0))
    assert conn.execute("select resource_id from raw.ehr_encounter order by 1").fetchall() == [("e1",), ("e2",)]
    assert conn.execute("select sha256 from raw.load_manifest").fetchone() == (hashlib.sha256(data).hexdigest(),)


def test_gzipped_csv_is_loaded(conn, tmp_path: Path) -> None:
    csv_text = COMPLAINTS_HEADER + "c1,p1,e1,emergency,2026-01-05 09:00,,,waiting,phone,slow\n"
    result = _load(conn, _landed(tmp_path, "relations", "complaints.csv.gz", gzip.compress(csv_text.encode())))
    assert (result.status, _counts(result)) == ("loaded", (1, 1, 0))


def test_truncated_gzip_is_refused_and_nothing_of_it_loaded(conn, tmp_path: Path) -> None:
    lines = "".join(json.dumps({**ENCOUNTER, "id": f"e{i}", "note": "x" * (i % 97)}) + "\n" for i in range(5000))
    data = gzip.compress(lines.encode())
    result = _load(conn, _landed(tmp_path, "ehr", "Encounter.ndjson.gz", data[: len(data) * 3 // 4]))
    assert (result.status, _counts(result)) == ("rejected", (0, 0, 0)) and "gzip" in (result.reason or "")
    assert conn.execute("select count(*) from raw.ehr_encounter").fetchone() == (0,)
    assert _quarantine(conn) == [(0, "corrupt_gzip")]


def test_header_only_csv_without_newline_is_empty_not_an_error(conn, tmp_path: Path) -> None:
    result = _load(conn, _landed(tmp_path, "relations", "complaints.csv", COMPLAINTS_HEADER.rstrip("\n").encode()))
    assert (result.status, _counts(result)) == ("empty", (0, 0, 0))
    assert _quarantine(conn) == []


def test_duplicated_header_name_refuses_the_file_naming_the_column(conn, tmp_path: Path) -> None:
    text = "complaint_id,received_at,category,category\nc1,2026-01-05 09:00,waiting,other\n"
    result = _load(conn, _landed(tmp_path, "relations", "complaints.csv", text.encode()))
    assert result.status == "rejected" and "'category'" in (result.reason or "")
    [(detail,)] = conn.execute("select detail from quarantine.rows where rule = 'duplicate_column'").fetchall()
    assert detail.startswith(f"relations/{DAY}/complaints.csv: ") and "category" in detail


def test_a_line_nested_20000_deep_is_quarantined_before_duckdb_parses_it(conn, tmp_path: Path) -> None:
    deep = '{"resourceType":"Encounter","x":' + "[" * 20_000 + "]" * 20_000 + "}"
    content = json.dumps(ENCOUNTER) + "\n" + deep + "\n" + json.dumps({**ENCOUNTER, "id": "e3"}) + "\n"
    result = _load(conn, _landed(tmp_path, "ehr", "Encounter.ndjson", content.encode()))
    assert (result.status, _counts(result)) == ("partial", (3, 2, 1))
    assert _quarantine(conn) == [(2, "too_deeply_nested")]
    [(detail, digest)] = conn.execute("select detail, content_sha256 from quarantine.rows").fetchall()
    assert "64 levels" in detail and digest == hashlib.sha256(deep.encode()).hexdigest()


def test_a_jsonl_line_over_the_size_limit_is_quarantined(conn, tmp_path: Path) -> None:
    review = {"review_id": "r1", "rating": "4", "posted_at": "2026-01-05 11:00", "text": "fine"}
    big = {**review, "review_id": "r2", "text": "x" * 3000}
    content = json.dumps(review) + "\n" + json.dumps(big) + "\n"
    landed = _landed(tmp_path, "relations", "reviews.jsonl", content.encode())
    limits = ReadLimits(max_line_bytes=2048)
    result = load_file(conn, landed, run_id="r1", loaded_at=datetime(2026, 1, 6), limits=limits)
    assert (result.status, _counts(result)) == ("partial", (2, 1, 1))
    assert _quarantine(conn) == [(2, "line_too_long")]


def test_unterminated_quote_refuses_the_csv_never_merges_records(conn, tmp_path: Path) -> None:
    text = (COMPLAINTS_HEADER + 'c1,p1,e1,emergency,2026-01-05 09:00,,,waiting,phone,"he said\n'
            "c2,p1,e1,emergency,2026-01-05 10:00,,,waiting,phone,second\n"
            "c3,p1,e1,emergency,2026-01-05 11:00,,,waiting,phone,third\n")
    result = _load(conn, _landed(tmp_path, "relations", "complaints.csv", text.encode()))
    assert (result.status, _counts(result)) == ("rejected", (0, 0, 0))
    assert conn.execute("select count(*) from raw.relations_complaints").fetchone() == (0,)
    assert _quarantine(conn) == [(0, "unterminated_quote")]


def test_quoted_newlines_stay_one_record_and_rows_read_counts_records(conn, tmp_path: Path) -> None:
    text = (COMPLAINTS_HEADER + 'c1,p1,e1,emergency,2026-01-05 09:00,,,waiting,phone,"waited\nthree hours"\n'
            "c2,p1,e1,emergency\n"
            'c3,p1,e1,emergency,2026-01-05 11:00,,,waiting,phone,"line one\nline two\nline three"\n')
    result = _load(conn, _landed(tmp_path, "relations", "complaints.csv", text.encode()))
    assert (result.status, _counts(result)) == ("partial", (3, 2, 1))  # 3 records over 6 lines
    rows = conn.execute("select _row_number, complaint_id, description from raw.relations_complaints order by 1")
    assert rows.fetchall() == [(1, "c1", "waited\nthree hours"), (3, "c3", "line one\nline two\nline three")]
    assert _quarantine(conn) == [(2, "malformed_csv_row")]


def test_latin1_csv_is_refused_not_published_as_mojibake(conn, tmp_path: Path) -> None:
    text = COMPLAINTS_HEADER + "c1,p1,e1,emergency,2026-01-05 09:00,,,waiting,phone,Frau Müller wartete\n"
    result = _load(conn, _landed(tmp_path, "relations", "complaints.csv", text.encode("latin-1")))
    assert result.status == "rejected" and "GB18030" in (result.reason or "") and "UTF-8" in (result.reason or "")
    assert conn.execute("select count(*) from raw.relations_complaints").fetchone() == (0,)
    assert "黮" not in _all_text(conn)
    assert _quarantine(conn) == [(0, "unknown_encoding")]


def test_a_file_without_read_permission_is_deferred_as_not_readable(conn, tmp_path: Path, monkeypatch) -> None:
    landed = _landed(tmp_path, "ehr", "Encounter.ndjson", (json.dumps(ENCOUNTER) + "\n").encode())
    opened = Path.open

    def denied(self: Path, *args, **kwargs):  # chmod 000 does not stop root, which runs these tests
        if self == landed.path:
            raise PermissionError(13, "Permission denied", str(self))
        return opened(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", denied)
    result = _load(conn, landed)
    assert result.status == "deferred" and "not_readable" in (result.reason or "")
    assert "timeout" not in (result.reason or "").lower()
    assert _quarantine(conn) == [(0, "not_readable")]
    assert not already_loaded(conn, landed), "read again next run"
    monkeypatch.setattr(Path, "open", opened)
    again = _load(conn, landed)
    assert (again.status, _counts(again)) == ("loaded", (1, 1, 0))
    assert _quarantine(conn) == [], "the deferral's record is replaced by the load"
    assert conn.execute("select status from raw.load_manifest").fetchall() == [("loaded",)]


def test_a_file_that_grows_while_it_is_read_is_deferred_and_nothing_loaded(conn, tmp_path: Path, monkeypatch) -> None:
    import journey.ingest.loader as loader

    landed = _landed(tmp_path, "ehr", "Encounter.ndjson", (json.dumps(ENCOUNTER) + "\n").encode())
    stage = loader._stage_lines

    def appending(batch, encoding):
        counted = stage(batch, encoding)
        with landed.path.open("ab") as handle:  # the export is still writing it
            handle.write((json.dumps({**ENCOUNTER, "id": "e2"}) + "\n").encode())
        return counted

    monkeypatch.setattr(loader, "_stage_lines", appending)
    result = _load(conn, landed)
    assert (result.status, _counts(result)) == ("deferred", (0, 0, 0))
    assert "changed_while_reading" in (result.reason or "")
    assert conn.execute("select count(*) from raw.ehr_encounter").fetchone() == (0,)
    assert not already_loaded(conn, landed)
    entry = ManifestEntry(f"ehr/{DAY}/Encounter.ndjson", result.batch_id, landed.sha256, "deferred", DAY, "")
    assert not entry.in_effect, "plan_run does not count it as done"


def test_an_arrow_or_duckdb_error_or_out_of_memory_refuses_only_that_file(conn, tmp_path: Path, monkeypatch) -> None:
    import journey.ingest.loader as loader

    bad = _landed(tmp_path, "ehr", "Encounter.ndjson", (json.dumps(ENCOUNTER) + "\n").encode())
    good = _landed(tmp_path, "ehr", "Patient.ndjson", (json.dumps(PATIENT) + "\n").encode())
    load_fhir = loader._load_fhir

    def exhausting(batch, encoding):
        if batch.landed.path == bad.path:
            load_fhir(batch, encoding)  # its rows were inserted: they must not stay
            raise duckdb.OutOfMemoryException("could not allocate block of size 256 KiB")
        return load_fhir(batch, encoding)

    monkeypatch.setattr(loader, "_load_fhir", exhausting)
    refused, loaded = _load(conn, bad), _load(conn, good)
    assert refused.status == "rejected" and "OutOfMemory" in (refused.reason or "")
    assert conn.execute("select count(*) from raw.ehr_encounter").fetchone() == (0,)
    assert (loaded.status, _counts(loaded)) == ("loaded", (1, 1, 0))
    assert _quarantine(conn) == [(0, "out_of_memory")]


def test_a_declared_source_encoding_decodes_big5_deliberately(conn, tmp_path: Path) -> None:
    text = COMPLAINTS_HEADER + "c1,p1,e1,emergency,2026-01-05 09:00,,,waiting,phone,急診科 等候時間太長\n"
    landed = _landed(tmp_path, "relations", "complaints.csv", text.encode("big5"))
    assert _load(conn, landed).status == "rejected", "without the declaration Big5 is not guessed"
    conn.execute("delete from raw.load_manifest")
    limits = ReadLimits(source_encodings=Settings(source_encodings={"relations": "big5"}).source_encodings)
    result = load_file(conn, landed, run_id="r1", loaded_at=datetime(2026, 1, 6), limits=limits)
    assert (result.status, result.encoding, _counts(result)) == ("loaded", "big5", (1, 1, 0))
    assert conn.execute("select description from raw.relations_complaints").fetchone() == ("急診科 等候時間太長",)


def test_a_declared_source_encoding_must_be_known() -> None:
    with pytest.raises(ValueError, match="unknown encoding"):
        Settings(source_encodings={"relations": "klingon"})
    with pytest.raises(ValueError, match="unknown source"):
        Settings(source_encodings={"pharmacy": "gbk"})
