"""Patient keys, through the real loader: the same patient gets the same key in every source and on
every day; another secret gives other keys; without the secret no plain hash of the id gives the key;
the secret comes from JOURNEY_SECRET or JOURNEY_SECRET_FILE and never lands in the warehouse."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from journey.config import Settings
from journey.errors import ConfigError
from journey.ingest.landing import discover
from journey.ingest.loader import load_file
from journey.ingest.pseudonymise import install_macros
from journey.privacy.scan import Needle, scan, secret_needles
from journey.warehouse.schema import ensure_schema

DAY1, DAY2 = date(2026, 1, 5), date(2026, 1, 6)
PATIENT_ID = "0000123456"
SECRET = b"site-secret-for-key-tests"


def _drop(landing: Path, source: str, day: date, name: str, text: str) -> None:
    folder = landing / source / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


def _landing(tmp_path: Path) -> Path:
    """The same patient in a Patient resource (day 1) and in an Encounter, a QuestionnaireResponse,
    an Appointment, a complaint and a CRM touch (day 2)."""
    landing = tmp_path / "landing"
    patient = {"resourceType": "Patient", "id": PATIENT_ID, "birthDate": "1980-02-03", "name": [{"text": "李四"}]}
    _drop(landing, "ehr", DAY1, "Patient.ndjson", json.dumps(patient, ensure_ascii=False) + "\n")
    ref = {"reference": f"Patient/{PATIENT_ID}"}
    resources = [
        {"resourceType": "Encounter", "id": "e1", "status": "finished", "class": {"code": "AMB"}, "subject": ref},
        {"resourceType": "QuestionnaireResponse", "id": "q1", "encounter": {"reference": "Encounter/e1"},
         "subject": ref},
        {"resourceType": "Appointment", "id": "a1", "status": "booked", "participant": [{"actor": ref}]},
    ]
    _drop(landing, "ehr", DAY2, "export.ndjson", "\n".join(json.dumps(r) for r in resources) + "\n")
    _drop(landing, "relations", DAY2, "complaints.csv",
          "complaint_id,patient_id,received_at\nc1," + PATIENT_ID + ",2026-01-06T09:00:00\n")
    touch = {"touch_id": "t1", "ts": "2026-01-06T10:00:00", "anonymous_id": "o1", "patient_id": PATIENT_ID,
             "channel": "wechat", "action": "booking"}
    _drop(landing, "crm", DAY2, "touches.jsonl", json.dumps(touch) + "\n")
    return landing


def _load(tmp_path: Path, secret: bytes, name: str) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect(str(tmp_path / f"{name}.duckdb"))
    ensure_schema(conn)
    install_macros(conn, secret)
    for landed in discover(_landing(tmp_path), [DAY1, DAY2]):
        load_file(conn, landed, run_id="r1", loaded_at=datetime(2026, 1, 7))
    return conn


def _keys(conn: duckdb.DuckDBPyConnection) -> dict[str, str]:
    def one(sql: str) -> str:
        row = conn.execute(sql).fetchone()
        assert row is not None and row[0] is not None, sql
        return str(row[0])

    return {
        "patient": one("select resource_id from raw.ehr_patient"),
        "patient_resource": one("select resource ->> 'id' from raw.ehr_patient"),
        "encounter": one("select resource ->> '$.subject.reference' from raw.ehr_encounter"),
        "survey": one("select resource ->> '$.subject.reference' from raw.ehr_questionnaire_response"),
        "appointment": one("select resource ->> '$.participant[0].actor.reference' from raw.ehr_appointment"),
        "complaint": one("select patient_id from raw.relations_complaints"),
        "touch": one("select patient_id from raw.crm_touches"),
    }


def _bare(keys: dict[str, str]) -> set[str]:
    return {value.removeprefix("Patient/") for value in keys.values()}


def test_same_patient_same_key_across_sources_and_days(tmp_path: Path) -> None:
    keys = _keys(_load(tmp_path, SECRET, "one"))
    assert _bare(keys) == {hmac.new(SECRET, PATIENT_ID.encode(), hashlib.sha256).hexdigest()}, keys


def test_another_secret_gives_other_keys(tmp_path: Path) -> None:
    first = _bare(_keys(_load(tmp_path, SECRET, "one")))
    second = _bare(_keys(_load(tmp_path, b"another-site", "two")))
    assert len(first) == len(second) == 1
    assert first != second


@pytest.mark.parametrize(
    "unkeyed",
    [
        lambda pid: hashlib.sha256(pid.encode()).hexdigest(),
        lambda pid: hashlib.sha256(f"Patient/{pid}".encode()).hexdigest(),
        lambda pid: hashlib.sha512(pid.encode()).hexdigest()[:64],
        lambda pid: hashlib.sha1(pid.encode()).hexdigest(),
        lambda pid: hashlib.md5(pid.encode()).hexdigest(),
        lambda pid: hashlib.sha256(hashlib.sha256(pid.encode()).digest()).hexdigest(),
        lambda pid: hmac.new(b"", pid.encode(), hashlib.sha256).hexdigest(),
        lambda pid: hashlib.sha3_256(pid.encode()).hexdigest(),
    ],
)
def test_without_the_secret_hashing_a_known_id_does_not_give_the_key(tmp_path: Path, unkeyed) -> None:
    key = _bare(_keys(_load(tmp_path, SECRET, "one"))).pop()
    assert len(key) == 64
    assert unkeyed(PATIENT_ID) != key
    assert PATIENT_ID not in key


def test_secret_is_nowhere_in_the_warehouse(tmp_path: Path) -> None:
    conn = _load(tmp_path, SECRET, "one")
    conn.execute("checkpoint")
    conn.close()
    report = scan([*secret_needles(SECRET), Needle("patient_id", PATIENT_ID)], warehouse=tmp_path / "one.duckdb")
    assert report.clean, report.summary()
    assert report.tables > 10


def test_secret_from_environment_variable_wins_over_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret_file = tmp_path / "elsewhere" / "journey.secret"
    secret_file.parent.mkdir()
    secret_file.write_text("from-file\n", encoding="utf-8")
    monkeypatch.setenv("JOURNEY_SECRET_FILE", str(secret_file))
    monkeypatch.delenv("JOURNEY_SECRET", raising=False)
    assert Settings(data_dir=tmp_path / "data").pseudonym_key() == b"from-file"
    monkeypatch.setenv("JOURNEY_SECRET", "from-env")
    assert Settings(data_dir=tmp_path / "data").pseudonym_key() == b"from-env"


def test_missing_secret_is_an_error_that_says_how_to_fix_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOURNEY_SECRET", raising=False)
    monkeypatch.setenv("JOURNEY_SECRET_FILE", str(tmp_path / "missing.secret"))
    with pytest.raises(ConfigError, match="JOURNEY_SECRET.*journey init"):
        Settings(data_dir=tmp_path).pseudonym_key()


def test_init_creates_a_private_secret_once_and_says_where(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from journey.cli import app

    monkeypatch.setenv("JOURNEY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("JOURNEY_SECRET", raising=False)
    monkeypatch.delenv("JOURNEY_SECRET_FILE", raising=False)
    runner = CliRunner()
    first = runner.invoke(app, ["init"])
    assert first.exit_code == 0, first.output
    secret_file = tmp_path / "data" / ".secret"
    assert f"secret:    {secret_file} (created; back it up, keep it out of git)" in first.output
    assert (secret_file.stat().st_mode & 0o777) == 0o600
    value = secret_file.read_text(encoding="utf-8").strip()
    assert len(value) == 64 and value not in first.output
    second = runner.invoke(app, ["init"])
    assert "(existing)" in second.output
    assert secret_file.read_text(encoding="utf-8").strip() == value
