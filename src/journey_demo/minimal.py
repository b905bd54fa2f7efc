"""The ``minimal`` export profile: what FHIR bulk exports typically hold, from a full generated landing.

Rewrites the EHR drops of a full generation with DuckDB (one pass per file, no Python loop per line):
Encounters keep only ``period`` (no statusHistory, no location periods, no discharge disposition),
locations, providers and practitioners are named by conditional references
(``Location?identifier=<system>|<value>``), a share of classes become other v3 codes (HH, VR, ACUTE) or
a local code, Patients carry the ``patient-mothersMaidenName`` and ``patient-birthPlace`` extensions,
files get Bulk Data names (``Encounter.000.ndjson``) and each drop an export log (``log.ndjson``).
No surveys (QuestionnaireResponse), CRM or relations sources. The choices are keyed on the resource
id (md5), so the same seed gives the same bytes.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa

from journey_demo import fmt

#: The local class code (and its system) a share of ED encounters carry instead of v3 EMER.
LOCAL_CLASS_SYSTEM = "https://journey.example/fhir/CodeSystem/local-encounter-class"
LOCAL_CLASS_CODE = "EW EMER."
LOCATION_SYSTEM = "https://journey.example/fhir/NamingSystem/location"
PRACTITIONER_SYSTEM = "https://journey.example/fhir/NamingSystem/staff"
ORGANIZATION_SYSTEM = "https://journey.example/fhir/NamingSystem/organization"
DROPPED_TYPES = ("QuestionnaireResponse",)
DROPPED_SOURCES = ("crm", "relations")
_V3 = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
_MAIDEN_NAMES = ("Zhao", "Qian", "Sun", "Zhou", "Wu", "Zheng", "Feng", "Chen")
_BIRTH_CITIES = ("Hangzhou", "Suzhou", "Nanjing", "Wuxi", "Ningbo", "Hefei")


def _bucket(expr: str, n: int) -> str:
    """A stable 0..n-1 bucket of a text (md5: no dependence on DuckDB's hash seed)."""
    return f"(('0x' || left(md5({expr}), 8))::bigint % {n})"


def _class(code: str, display: str, system: str = _V3) -> str:
    return f"json_object('system', '{system}', 'code', '{code}', 'display', '{display}')"


def _encounter_sql() -> str:
    rid = "(j ->> '$.id')"
    code = "(j ->> '$.class.code')"
    pick = _bucket(rid, 20)
    new_class = f"""case
        when {code} = 'AMB' and {pick} = 0 then {_class('VR', 'virtual')}
        when {code} = 'AMB' and {pick} = 1 then {_class('HH', 'home health')}
        when {code} = 'IMP' and {pick} < 10 then {_class('ACUTE', 'inpatient acute')}
        when {code} = 'EMER' and {pick} < 5 then {_class(LOCAL_CLASS_CODE, 'Emergency ward', LOCAL_CLASS_SYSTEM)}
        else j -> '$.class' end"""
    locations = f"""case when json_array_length(j -> '$.location') > 0 then to_json(list_transform(
        json_extract_string(j, '$.location[*].location.reference'),
        lambda ref: json_object('location', json_object('reference',
            'Location?identifier={LOCATION_SYSTEM}|' || regexp_replace(ref, '^Location/', '')))))
        end"""
    patch = f"""json_object(
        'statusHistory', null, 'hospitalization', null, 'location', {locations}, 'class', {new_class},
        'serviceProvider', json_object('reference', 'Organization?identifier={ORGANIZATION_SYSTEM}|hospital-main'))"""
    return f"json_merge_patch(j, {patch})"


def _patient_sql() -> str:
    rid = "(j ->> '$.id')"
    maiden = "[" + ", ".join(f"'{name}'" for name in _MAIDEN_NAMES) + f"][{_bucket(rid, len(_MAIDEN_NAMES))} + 1]"
    city = "[" + ", ".join(f"'{name}'" for name in _BIRTH_CITIES) + f"][{_bucket(rid, len(_BIRTH_CITIES))} + 1]"
    extensions = f"""to_json([
        json_object('url', 'http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName',
                    'valueString', {maiden}),
        json_object('url', 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace',
                    'valueAddress', json_object('city', {city}, 'country', 'CN'))])"""
    return f"json_merge_patch(j, json_object('extension', {extensions}))"


def _location_sql() -> str:
    identifier = f"to_json([json_object('system', '{LOCATION_SYSTEM}', 'value', j ->> '$.id')])"
    return f"json_merge_patch(j, json_object('identifier', {identifier}))"


def _appointment_sql() -> str:
    participants = f"""to_json(list_transform(json_extract(j, '$.participant[*]'), lambda part:
        case when json_extract_string(part, '$.actor.reference') like 'Practitioner/%'
             then json_merge_patch(part, json_object('actor', json_object('reference',
                  'Practitioner?identifier={PRACTITIONER_SYSTEM}|'
                  || regexp_replace(json_extract_string(part, '$.actor.reference'), '^Practitioner/', ''))))
             else part end))"""
    return f"json_merge_patch(j, json_object('participant', {participants}))"


_REWRITE = {"Encounter": _encounter_sql, "Patient": _patient_sql, "Location": _location_sql,
            "Appointment": _appointment_sql}
_PLAIN = re.compile(r"^(?P<stem>[A-Za-z]+)\.ndjson$")


def bulk_name(name: str) -> str:
    """``Encounter.ndjson`` → ``Encounter.000.ndjson`` (an already split name is kept)."""
    match = _PLAIN.match(name)
    return f"{match['stem']}.000.ndjson" if match else name


def _rewrite(conn: duckdb.DuckDBPyConnection, source: Path, target: Path, resource_type: str) -> int:
    expression = _REWRITE.get(resource_type)
    select = f"({expression()})::varchar" if expression else "j::varchar"
    lines = conn.execute(
        f"select {select} as line from (select line::json as j from read_csv(?, columns = {{'line': 'VARCHAR'}}, "
        "header = false, delim = chr(1), quote = '', escape = '', auto_detect = false, "
        "max_line_size = 8388608) where line is not null)",
        [str(source)],
    ).arrow().read_all()
    column = lines.column("line").combine_chunks() if lines.num_rows else pa.array([], pa.string())
    target.write_bytes(fmt.lines_bytes(column) if len(column) else b"")
    return len(column)


def _export_log(day: str, files: dict[str, int]) -> bytes:
    """Two Bulk Data export-log lines (no resourceType) like a bulk client writes next to the files."""
    resources = sum(files.values())
    kickoff = (f'{{"eventId":"kickoff","exportUrl":"https://ehr.journey.example/fhir/$export",'
               f'"eventDetail":{{"transactionTime":"{day}T23:59:00+08:00","responseStatus":202}}}}')
    complete = f'{{"eventId":"export_complete","eventDetail":{{"files":{len(files)},"resources":{resources}}}}}'
    return (kickoff + "\n" + complete + "\n").encode("utf-8")


def to_minimal(full: Path, landing: Path) -> dict[str, int]:
    """Write the minimal export of the full landing ``full`` into ``landing``; rows by ``ehr/<type>``."""
    rows: dict[str, int] = {}
    conn = duckdb.connect()
    try:
        conn.execute("set threads = 1")  # one ordered pass per file
        for drop in sorted((full / "ehr").iterdir()):
            out = landing / "ehr" / drop.name
            out.mkdir(parents=True, exist_ok=True)
            written: dict[str, int] = {}
            for path in sorted(drop.glob("*.ndjson")):
                resource_type = path.name.split(".", 1)[0]
                if resource_type in DROPPED_TYPES:
                    continue
                count = _rewrite(conn, path, out / bulk_name(path.name), resource_type)
                written[path.name] = count
                rows[f"ehr/{resource_type}"] = rows.get(f"ehr/{resource_type}", 0) + count
            (out / "log.ndjson").write_bytes(_export_log(drop.name, written))
    finally:
        conn.close()
    return dict(sorted(rows.items()))


def generate_minimal(full: Path, landing: Path) -> dict[str, int]:
    """Convert then delete the full landing (a scratch dir the caller generated into)."""
    try:
        return to_minimal(full, landing)
    finally:
        shutil.rmtree(full, ignore_errors=True)
