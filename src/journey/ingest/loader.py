"""Load one landed file into the ``raw`` schema: set-based, in DuckDB, pseudonymised at the door.

For every file: decode (UTF-8, or GB18030 detected) → rows with physical row numbers → structural
rules (parseable, an object, has a type, required fields) → accepted rows into ``raw.<entity>``,
rejected rows into ``quarantine.rows`` with the rule → one ``raw.load_manifest`` row where
``rows_read = rows_loaded + rows_quarantined``. Direct patient identifiers never reach either table:
a FHIR resource is rebuilt from its allow-list (``journey.ingest.allowlist``: only the elements the
contract reads; no extension, narrative, display or contained resource), patient ids become HMAC
keys, a Reference by identifier keeps only a keyed identifier value, the free text kept is
scrubbed, and a row too broken to parse is
quarantined as a hash of its content, not the text (the data engineer finds it in the landing file by
its row number).

The SQL here is load plumbing (parse, check shape, pseudonymise, insert); every transformation of
meaning lives in dbt.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import duckdb
import pyarrow as pa

from journey.ingest.allowlist import KEEP_SPECS, keep_sql
from journey.ingest.entities import ENTITIES, FHIR_TYPES, Entity, entity_for_file
from journey.ingest.landing import LandedFile
from journey.ingest.pseudonymise import _sql_literal, conditional_person_refs_sql, identifier_keys_sql
from journey.ingest.readers import (
    UnreadableFile,
    detect_encoding,
    parquet_text_chunks,
    read_csv,
    read_lines,
    read_parquet,
)

log = logging.getLogger(__name__)

Status = Literal["loaded", "partial", "empty", "rejected", "ignored"]

@dataclass(frozen=True)
class FileLoad:
    """What loading one file did (the manifest row, as a value)."""

    batch_id: str
    relative_path: str
    source: str
    encoding: str | None
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    rows_skipped_types: int
    status: Status
    reason: str | None
    #: of rows_skipped_types, lines per kind as JSON (a resource type, or ``export_log``), else None
    skipped_kinds: str | None = None


#: A bulk export's own log line (``log.ndjson``): a JSON object with no ``resourceType`` and no ``id``
#: but a ``message`` or ``level``. Recorded as skipped of this kind, not quarantined as a broken resource.
EXPORT_LOG = "export_log"
#: Members that mark a line without resourceType as an export log line.
_EXPORT_LOG_KEYS = ("message", "level", "eventId", "eventDetail")


def batch_id_for(landed: LandedFile) -> str:
    """Deterministic: the same bytes at the same path are the same batch (reruns load nothing)."""
    return hashlib.sha256(f"{landed.relative_path}\0{landed.sha256}".encode()).hexdigest()[:20]


def already_loaded(conn: duckdb.DuckDBPyConnection, landed: LandedFile) -> bool:
    """These bytes are in the manifest and still in effect. A batch since superseded by a
    re-delivery (A, then B, then A again) is not: loading it again makes it the current version."""
    row = conn.execute(
        "select count(*) from raw.load_manifest where batch_id = ? and status <> 'superseded'",
        [batch_id_for(landed)],
    ).fetchone()
    return bool(row and row[0])


# --------------------------------------------------------------------------------------------------
# SQL fragments
# --------------------------------------------------------------------------------------------------
def _json_path(path: str) -> str:
    return "$." + path


#: A JSON string that references a Patient: relative (``Patient/1``), absolute
#: (``https://ehr/fhir/Patient/1``) or versioned (``Patient/1/_history/2``); group 1 is the id.
_PATIENT_REF = r'"(?:[^"\\]*/)?Patient/([^"/\\]+)(?:/_history/[^"\\]*)?"'


def _pseudonymise_refs(expr: str) -> str:
    """Replace every Patient reference (any shape) by ``Patient/<key>``, and every conditional
    reference to a person by its keyed identifier (the allow-list then drops every ``display``)."""
    conditional = conditional_person_refs_sql(expr)  # Patient?identifier=… keyed (pseudonymise.py)
    swapped = (
        f"list_reduce(list_distinct(regexp_extract_all({conditional}, {_sql_literal(_PATIENT_REF)}, 0)), "
        f"(acc, ref) -> replace(acc, ref, '\"Patient/' || "
        f"journey_key(regexp_extract(ref, {_sql_literal(_PATIENT_REF)}, 1)) || '\"'), {conditional})"
    )
    # A resource without ``Patient/`` (most Slots, Locations) is returned as is, without the regexes.
    return (f"(case when contains({expr}, 'Patient/') then {swapped} else {conditional} end)")


def _patient_resource(line: str) -> str:
    """A new Patient object from its allow-list, the keyed id and ``_journey`` (birth year, region and
    keyed identifiers, derived from the landed resource before the rest is dropped)."""
    return (
        f"json_merge_patch(coalesce({keep_sql(KEEP_SPECS['Patient'], line)}, '{{}}'), json_object("
        f"'id', journey_key({line}::json ->> 'id'), "
        f"'_journey', json_object("
        f"'birthYear', try_cast(substr({line}::json ->> 'birthDate', 1, 4) as integer), "
        f"'region', coalesce({line}::json ->> '$.address[0].district', {line}::json ->> '$.address[0].city'), "
        f"'identifierKeys', {identifier_keys_sql(line + '::json')}::json)))"
    )


#: A Reference by identifier: ``"identifier": {`` (a resource's own identifiers are an array; the
#: only object-valued ones at a resource's root, e.g. QuestionnaireResponse.identifier, are not
#: references: not kept by the allow-list).
_IDENTIFIER_OBJECT = r'"identifier"\s*:\s*\{'
_RESOURCE_ROOT = "$"


def protection_gate_sql(line: str = "line") -> str:
    """True for a line that may hold a Reference by identifier: only these lines go through
    ``protected_lines_sql`` (cheap text tests; every other line is loaded as it was)."""
    return (
        f"(contains({line}, '\"identifier\"') "
        f"and regexp_matches({line}, {_sql_literal(_IDENTIFIER_OBJECT)}))"
    )


def _reference_patch(reference: str) -> str:
    """The merge patch for one Reference that names its target by an Identifier: the identifier's
    ``value`` replaced by ``journey_key(system|value)`` (the FHIR token form; ``|value`` without a
    system; never equal to a patient key: a FHIR id holds no ``|``)."""
    token = f"coalesce({reference} ->> '$.identifier.system', '') || '|' || ({reference} ->> '$.identifier.value')"
    return f"json_object('identifier', json_object('value', journey_key({token})))"


def _references_sql(line: str) -> str:
    """``line`` (minified) with every Reference given by an identifier rewritten by
    ``_reference_patch``; deepest first, so an identifier's ``assigner`` is done before the Reference
    that holds it. A scalar subquery over ``json_tree``: use it on the few lines
    ``protection_gate_sql`` selects, never on a whole file."""
    paths = (
        f"select distinct path from json_tree({line}) "
        f"where key = 'identifier' and type = 'OBJECT' and path <> {_sql_literal(_RESOURCE_ROOT)}"
    )
    reference = "json_extract(acc, node)"
    patched = f"json_merge_patch({reference}, {_reference_patch(reference)})"
    rewrite = f"(acc, node) -> replace(acc, {reference}::varchar, {patched}::varchar)"
    return (
        f"coalesce((select list_reduce(list(path order by length(path) desc, path), {rewrite}, json({line})::varchar) "
        f"from ({paths})), {line})"
    )


def protected_lines_sql(relation: str = "_checked") -> str:
    """``(_row_number, line)`` of the lines of ``relation`` whose ``gated`` (``protection_gate_sql``) is
    true, with References by identifier pseudonymised (then loaded like any line)."""
    known = ", ".join(f"'{name}'" for name in sorted(FHIR_TYPES))
    return f"""select _row_number, {_references_sql("line")} as line from {relation}
               where resource_type in ({known}) and gated"""


def fhir_resource_sql(resource_type: str, line: str = "line") -> str:
    """The resource raw keeps of a parsed line of ``resource_type``: its allow-list
    (``journey.ingest.allowlist``) over the line with Patient references keyed."""
    if resource_type == "Patient":
        return _patient_resource(line)
    resource = keep_sql(KEEP_SPECS[resource_type], _pseudonymise_refs(line))
    if resource_type == "Location":  # keyed identifiers, to resolve a Reference.identifier (keyed too)
        resource = (f"json_merge_patch({resource}, json_object('_journey', json_object("
                    f"'identifierKeys', {identifier_keys_sql(line + '::json')}::json)))")
    return resource


#: Every JSON path the FHIR structural rules read: extracted in one parse of each line.
_FHIR_PATHS: tuple[str, ...] = tuple(
    dict.fromkeys(["resourceType", "id", *(path for name in sorted(FHIR_TYPES) for path in ENTITIES[name].required)])
)


def _field(path: str) -> str:
    """The extracted value of ``path`` (one of ``_FHIR_PATHS``) of a parsed line."""
    return f"field[{_FHIR_PATHS.index(path) + 1}]"


def _fhir_rule_sql() -> str:
    """A CASE giving the first structural rule a parsed FHIR line breaks (null = fine)."""
    resource_type = _field("resourceType")
    whens = [
        "when not is_valid then 'malformed_json'",
        "when json_kind <> 'OBJECT' then 'not_a_json_object'",
        # an export's own log line (no resourceType, no id; a message/level, or an event record as
        # bulk-export logs write them: eventId / eventDetail): skipped as export_log, not an error
        f"when coalesce(trim({resource_type}), '') = '' and coalesce(trim({_field('id')}), '') = '' and ("
        + " or ".join(f"json_exists(case when is_valid then line end, '$.{key}')" for key in _EXPORT_LOG_KEYS)
        + ") then null",
        f"when coalesce(trim({resource_type}), '') = '' then 'missing_resource_type'",
    ]
    for name in sorted(FHIR_TYPES):
        for path in ENTITIES[name].required:
            whens.append(
                f"when {resource_type} = '{name}' and "
                f"coalesce(trim({_field(path)}), '') = '' then 'required:{path}'"
            )
    return "case " + " ".join(whens) + " end"


def _fhir_checked_sql() -> str:
    """``_incoming`` lines → ``_checked`` (rule, resource_type, resource_id, gated), parsing each line
    once for every field the rules read (a JSON path list is extracted in one pass) and testing it once
    for ``protection_gate_sql``."""
    paths = ", ".join(_sql_literal(_json_path(path)) for path in _FHIR_PATHS)
    return f"""create or replace temp table _checked as
        with valid as (
            select _row_number, line, json_valid(line) as is_valid from _incoming
        ), parsed as (
            select _row_number, line, is_valid,
                   json_type(case when is_valid then line end) as json_kind,
                   json_extract_string(case when is_valid then line end, [{paths}]) as field
            from valid
        )
        select _row_number, line, {_fhir_rule_sql()} as rule,
               case when is_valid and json_kind = 'OBJECT' then {_field("resourceType")} end as resource_type,
               {_field("id")} as resource_id, {protection_gate_sql()} as gated
        from parsed"""


# --------------------------------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------------------------------
class _Batch:
    """The per-file context every insert needs."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, landed: LandedFile, loaded_at: datetime):
        self.conn = conn
        self.landed = landed
        self.batch_id = batch_id_for(landed)
        self.loaded_at = loaded_at

    @property
    def lineage_values(self) -> str:
        return "?, _row_number, ?, ?::date, ?::timestamp"

    @property
    def lineage_params(self) -> list[object]:
        return [self.landed.relative_path, self.batch_id, self.landed.landing_date, self.loaded_at]

    def quarantine(self, select_sql: str, params: list[object] | None = None) -> None:
        """Insert quarantine rows from a query giving entity, _row_number, rule, detail,
        original_values, content_sha256."""
        self.conn.execute(
            f"""insert into quarantine.rows
                select ?, ?, q.entity, ?, q._row_number, ?::date, q.rule, 'error', q.detail,
                       q.original_values, q.content_sha256, ?::timestamp, null
                from ({select_sql}) as q""",
            [self.batch_id, self.landed.source, self.landed.relative_path, self.landed.landing_date,
             self.loaded_at, *(params or [])],
        )


def _stage_lines(conn: duckdb.DuckDBPyConnection, landed: LandedFile, encoding: str) -> int:
    conn.execute("create or replace temp table _incoming (_row_number bigint, line varchar)")
    for chunk in read_lines(landed.path, encoding):
        conn.register("_chunk", chunk)
        conn.execute("insert into _incoming select _row_number, line from _chunk")
        conn.unregister("_chunk")
    row = conn.execute("select count(*) from _incoming").fetchone()
    return int(row[0]) if row else 0


def _count(conn: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> int:
    row = conn.execute(sql, params or []).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _skipped_kinds(groups: list[tuple[str | None, bool, int]]) -> dict[str, int]:
    """Lines loaded as skipped, per kind: each unused resource type (``OperationOutcome`` among
    them: a bulk export's error entries), and ``export_log`` for the export's own log lines."""
    kinds: dict[str, int] = {}
    for kind, ok, n in groups:
        if ok and kind not in FHIR_TYPES:
            key = kind or EXPORT_LOG
            kinds[key] = kinds.get(key, 0) + n
    return dict(sorted(kinds.items()))


def skipped_note(kinds: dict[str, int]) -> str | None:
    """The manifest reason's note on skipped lines, e.g. ``skipped: 2 export_log, 1 OperationOutcome``."""
    if not kinds:
        return None
    return "skipped: " + ", ".join(f"{n} {kind}" for kind, n in kinds.items())


def _load_fhir(batch: _Batch, encoding: str) -> tuple[int, int, int, int, dict[str, int]]:
    conn = batch.conn
    rows_read = _stage_lines(conn, batch.landed, encoding)
    conn.execute(_fhir_checked_sql())
    # (resource type, accepted, rows, rows to protect): which inserts this file needs (usually one
    # type, nothing refused, nothing to protect)
    counts = conn.execute(
        """select resource_type, rule is null, count(*), count(*) filter (where gated)
           from _checked group by all order by all"""
    ).fetchall()
    groups: list[tuple[str | None, bool, int]] = [(kind, bool(ok), int(n)) for kind, ok, n, _ in counts]
    source, resource_line = _protect(conn, sum(int(gated) for kind, _, _, gated in counts if kind in FHIR_TYPES))
    loaded = sum(n for kind, ok, n in groups if ok and kind in FHIR_TYPES)
    skipped = sum(n for kind, ok, n in groups if ok and kind not in FHIR_TYPES)
    quarantined = sum(n for _, ok, n in groups if not ok)
    for name in sorted({kind for kind, ok, _ in groups if ok and kind in FHIR_TYPES}):
        key = "journey_key(resource_id)" if name == "Patient" else "resource_id"
        conn.execute(
            f"""insert into raw.{ENTITIES[name].table}
                select {key}, {fhir_resource_sql(name, resource_line)}, {batch.lineage_values}
                from {source} where rule is null and resource_type = '{name}'""",
            batch.lineage_params,
        )
    known = ", ".join(f"'{name}'" for name in sorted(FHIR_TYPES))
    if skipped:
        conn.execute(
            f"""insert into raw.ehr_other (resource_type, resource_id, _source_file, _row_number, _batch_id,
                                           _landing_date, _loaded_at, kind)
                select resource_type, resource_id, {batch.lineage_values},
                       case when resource_type is null then '{EXPORT_LOG}'
                            when resource_type = 'OperationOutcome' then 'operation_outcome'
                            else 'unused_type' end
                from _checked where rule is null and (resource_type is null or resource_type not in ({known}))""",
            batch.lineage_params,
        )
    if quarantined:
        # only a known type can break a required-element rule; its row is kept pseudonymised
        refused = sorted({kind for kind, ok, _ in groups if not ok and kind in FHIR_TYPES})
        pseudonymised = "case resource_type " + " ".join(
            f"when '{name}' then ({fhir_resource_sql(name, resource_line)})::varchar" for name in refused
        ) + " else null end" if refused else "null"
        batch.quarantine(
            f"""select resource_type as entity, _row_number, rule,
                       case when rule in ('malformed_json', 'not_a_json_object')
                            then 'line ' || _row_number || ' is not a JSON object'
                            else resource_type || ' lacks ' || replace(rule, 'required:', '') end as detail,
                       case when rule in ('malformed_json', 'not_a_json_object', 'missing_resource_type')
                            then null else {pseudonymised} end as original_values,
                       sha256(line) as content_sha256
                from {source} where rule is not null"""
        )
    return rows_read, loaded + skipped, quarantined, skipped, _skipped_kinds(groups)


def _protect(conn: duckdb.DuckDBPyConnection, gated: int) -> tuple[str, str]:
    """The relation the inserts read and its column holding each resource's text: ``_checked`` and
    ``line`` when no line needs ``protected_lines_sql`` (nearly every file); else ``_checked`` with
    the protected text of those lines in ``resource_line`` (``line`` stays the landed text, so a
    quarantined row's ``content_sha256`` is still the hash of its line in the landing file)."""
    if not gated:
        return "_checked", "line"
    conn.execute(f"create or replace temp table _protected as {protected_lines_sql()}")
    return (
        """(select checked.*, coalesce(protected.line, checked.line) as resource_line
            from _checked as checked left join _protected as protected using (_row_number))""",
        "resource_line",
    )


def _text_values(entity: Entity) -> list[tuple[str, str]]:
    """(column, expression) of a CSV/JSONL row after pseudonymisation and scrubbing."""
    values = []
    for column in entity.columns:
        ref = f'"{column}"'
        if column in entity.patient_columns:
            values.append((column, f"journey_key({ref})"))
        elif column in entity.free_text_columns:
            values.append((column, f"journey_scrub({ref})"))
        else:
            values.append((column, ref))
    return values


def _text_row_sql(entity: Entity) -> str:
    return ", ".join(f'{expr} as "{column}"' for column, expr in _text_values(entity))


def _text_struct_sql(entity: Entity) -> str:
    return "struct_pack(" + ", ".join(f'"{column}" := {expr}' for column, expr in _text_values(entity)) + ")"


def _required_rule_sql(entity: Entity) -> str:
    whens = " ".join(
        f"""when coalesce(trim("{column}"), '') = '' then 'required:{column}'""" for column in entity.required
    )
    return f"case {whens} end"


def _insert_text_rows(batch: _Batch, entity: Entity) -> tuple[int, int]:
    """From temp table ``_rows`` (contract columns + _row_number): insert good rows, quarantine bad."""
    conn = batch.conn
    conn.execute(f"create or replace temp table _checked as select *, {_required_rule_sql(entity)} as rule from _rows")
    conn.execute(
        f"""insert into raw.{entity.table}
            select {_text_row_sql(entity)}, {batch.lineage_values}
            from _checked where rule is null""",
        batch.lineage_params,
    )
    row = conn.execute(
        "select count(*) filter (where rule is null), count(*) filter (where rule is not null) from _checked"
    ).fetchone()
    loaded, refused = (int(row[0]), int(row[1])) if row else (0, 0)
    if refused:
        batch.quarantine(
            f"""select '{entity.name}' as entity, _row_number, rule,
                       '{entity.name} row lacks ' || replace(rule, 'required:', '') as detail,
                       to_json({_text_struct_sql(entity)})::varchar as original_values,
                       null as content_sha256
                from _checked where rule is not null"""
        )
    return loaded, refused


def _load_jsonl(batch: _Batch, entity: Entity, encoding: str) -> tuple[int, int, int, int]:
    conn = batch.conn
    rows_read = _stage_lines(conn, batch.landed, encoding)
    # each line is parsed once for all contract columns (a JSON path list is extracted in one pass); a
    # contract field holding an object or array is refused (its content never reaches raw as text)
    paths = ", ".join(_sql_literal(f'$."{column}"') for column in entity.columns)
    conn.execute(
        f"""create or replace temp table _shaped as
            with valid as (select _row_number, line, json_valid(line) as is_valid from _incoming),
            extracted as (
                select *, json_extract(case when is_valid then line end, [{paths}]) as value from valid
            )
            select _row_number, line,
                   case when not is_valid then 'malformed_json'
                        when json_type(case when is_valid then line end) <> 'OBJECT' then 'not_a_json_object'
                        when list_bool_or(list_transform(value, lambda v: json_type(v) in ('OBJECT', 'ARRAY')))
                            then 'nested_value'
                   end as rule,
                   list_transform(value, lambda v: json_extract_string(v, '$')) as field
            from extracted"""
    )
    bad_shape = _count(conn, "select count(*) from _shaped where rule is not null")
    if bad_shape:
        batch.quarantine(
            f"""select '{entity.name}' as entity, _row_number, rule,
                       case when rule = 'nested_value'
                            then 'line ' || _row_number || ' holds an object or array in a contract field'
                            else 'line ' || _row_number || ' is not a JSON object' end as detail,
                       null as original_values, sha256(line) as content_sha256
                from _shaped where rule is not null"""
        )
    fields = ", ".join(f'field[{index}] as "{column}"' for index, column in enumerate(entity.columns, start=1))
    conn.execute(f"create or replace temp table _rows as select _row_number, {fields} from _shaped where rule is null")
    loaded, quarantined = _insert_text_rows(batch, entity)
    return rows_read, loaded, quarantined + bad_shape, 0


def _load_csv(batch: _Batch, entity: Entity, encoding: str) -> tuple[int, int, int, int, str | None]:
    conn = batch.conn
    parsed = read_csv(batch.landed.path, encoding, entity.columns)
    missing = [column for column in entity.required if column not in parsed.header]
    if missing:
        raise UnreadableFile(f"header lacks required column(s) {', '.join(missing)}")
    extra = [column for column in parsed.header if column not in entity.columns]
    malformed: pa.Table = parsed.malformed
    if malformed.num_rows:
        conn.register("_malformed", malformed)
        batch.quarantine(
            f"""select '{entity.name}' as entity, _row_number, 'malformed_csv_row' as rule,
                       'data row ' || _row_number || ' has the wrong number of fields' as detail,
                       null as original_values, sha256(line) as content_sha256
                from _malformed"""
        )
        conn.unregister("_malformed")
    conn.register("_parsed", parsed.rows)
    conn.execute("create or replace temp table _rows as select * from _parsed")
    conn.unregister("_parsed")
    loaded, quarantined = _insert_text_rows(batch, entity)
    rows_read = parsed.rows.num_rows + malformed.num_rows
    reason = f"ignored extra column(s): {', '.join(extra)}" if extra else None
    return rows_read, loaded, quarantined + malformed.num_rows, 0, reason


def _load_parquet(batch: _Batch, entity: Entity) -> tuple[int, int, int, str | None]:
    """A CSV/JSONL entity exported as Parquet: read row group by row group (memory stays bounded),
    every contract column as text, then the same checks as a CSV row."""
    conn = batch.conn
    try:
        parquet = read_parquet(batch.landed.path)
        header = parquet.schema_arrow.names
    except (pa.ArrowInvalid, OSError) as error:
        raise UnreadableFile(f"not a readable Parquet file ({error})") from error
    missing = [column for column in entity.required if column not in header]
    if missing:
        raise UnreadableFile(f"schema lacks required column(s) {', '.join(missing)}")
    extra = [column for column in header if column not in entity.columns]
    read = loaded = quarantined = 0
    try:
        for chunk in parquet_text_chunks(parquet, entity.columns):
            conn.register("_parsed", chunk)
            conn.execute(f"create or replace temp table _rows as select _row_number + {read} as _row_number, "
                         "* exclude (_row_number) from _parsed")
            conn.unregister("_parsed")
            read += chunk.num_rows
            ok, bad = _insert_text_rows(batch, entity)
            loaded, quarantined = loaded + ok, quarantined + bad
    except (pa.ArrowInvalid, OSError) as error:
        # A truncated file fails part-way: nothing of it stays (the load is one transaction).
        raise UnreadableFile(f"Parquet file unreadable after {read} rows ({error})") from error
    return read, loaded, quarantined, (f"ignored extra column(s): {', '.join(extra)}" if extra else None)


def _manifest(batch: _Batch, run_id: str, result: FileLoad) -> None:
    batch.conn.execute(
        """insert into raw.load_manifest (batch_id, run_id, source, landing_date, path, size_bytes, sha256,
               encoding, rows_read, rows_loaded, rows_quarantined, rows_skipped_types, status, reason, loaded_at,
               file_stat, skipped_kinds)
           values (?, ?, ?, ?::date, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::timestamp, ?, ?)""",
        [
            result.batch_id, run_id, result.source, batch.landed.landing_date, result.relative_path,
            batch.landed.size_bytes, batch.landed.sha256, result.encoding, result.rows_read,
            result.rows_loaded, result.rows_quarantined, result.rows_skipped_types, result.status,
            result.reason, batch.loaded_at, batch.landed.file_stat or None, result.skipped_kinds,
        ],
    )


def load_file(
    conn: duckdb.DuckDBPyConnection, landed: LandedFile, *, run_id: str, loaded_at: datetime
) -> FileLoad:
    """Load one landed file (in its own transaction) and record it in the manifest.

    Never raises for bad content: an unreadable file is recorded as ``rejected`` with the reason and
    one file-level quarantine row; a file journey does not know is recorded as ``ignored``.
    """
    batch = _Batch(conn, landed, loaded_at)
    name = landed.path.name
    entity = None if name.endswith(".ndjson") else entity_for_file(landed.source, name)
    conn.execute("begin transaction")
    try:
        result = _load_one(batch, entity)
        _manifest(batch, run_id, result)
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
    log.info(
        "loaded file",
        extra={"file": result.relative_path, "status": result.status, "rows_read": result.rows_read,
               "rows_loaded": result.rows_loaded, "rows_quarantined": result.rows_quarantined},
    )
    return result


def _load_one(batch: _Batch, entity: Entity | None) -> FileLoad:
    landed = batch.landed

    kinds: dict[str, int] = {}

    def result(read: int, loaded: int, quarantined: int, skipped: int, status: Status,
               reason: str | None, encoding: str | None) -> FileLoad:
        return FileLoad(batch.batch_id, landed.relative_path, landed.source, encoding, read, loaded,
                        quarantined, skipped, status, reason, json.dumps(kinds) if kinds else None)

    is_fhir = landed.source == "ehr" and landed.path.name.endswith(".ndjson")
    if not is_fhir and entity is None:
        return result(0, 0, 0, 0, "ignored", "not a file of the source contract", None)
    if landed.size_bytes == 0:
        # Hospital exports write a zero-byte file on a day with nothing to send: recorded, not an error.
        return result(0, 0, 0, 0, "empty", "empty file (0 bytes)", None)
    encoding: str | None = None
    try:
        if landed.path.name.endswith(".parquet"):
            assert entity is not None
            read, loaded, quarantined, reason = _load_parquet(batch, entity)
            status: Status = "loaded" if quarantined == 0 else "partial"
            return result(read, loaded, quarantined, 0, status, reason, None)
        encoding = detect_encoding(landed.path)
        reason = None if encoding == "utf-8" else f"decoded as {encoding}"
        if is_fhir:
            read, loaded, quarantined, skipped, kinds = _load_fhir(batch, encoding)
            reason = "; ".join(part for part in (reason, skipped_note(kinds)) if part) or None
        elif entity is not None and entity.format == "jsonl":
            read, loaded, quarantined, skipped = _load_jsonl(batch, entity, encoding)
        else:
            assert entity is not None
            read, loaded, quarantined, skipped, extra = _load_csv(batch, entity, encoding)
            reason = "; ".join(part for part in (reason, extra) if part) or None
    except UnreadableFile as error:
        batch.quarantine(
            """select ? as entity, 0::bigint as _row_number, 'unreadable_file' as rule, ? as detail,
                      null as original_values, ? as content_sha256""",
            [entity.name if entity else None, f"{landed.relative_path}: {error.reason}", landed.sha256],
        )
        return result(0, 0, 0, 0, "rejected", error.reason, encoding)
    status = "loaded" if quarantined == 0 else "partial"
    return result(read, loaded, quarantined, skipped, status, reason, encoding)
