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

import errno
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import duckdb
import pyarrow as pa

from journey.ingest.allowlist import KEEP_SPECS, keep_sql
from journey.ingest.entities import ENTITIES, FHIR_TYPES, Entity, entity_for_file, file_format
from journey.ingest.landing import LandedFile
from journey.ingest.pseudonymise import _sql_literal, conditional_person_refs_sql, identifier_keys_sql
from journey.ingest.readers import (
    ReadLimits,
    UnreadableFile,
    detect_encoding,
    open_csv_records,
    parquet_text_chunks,
    read_lines,
    read_parquet,
)

log = logging.getLogger(__name__)

#: ``deferred``: the file changed (size or modification time) while it was read; nothing of it was
#: loaded and it is not done: the next run reads it again (journey.warehouse.manifest.in_effect).
Status = Literal["loaded", "partial", "empty", "rejected", "ignored", "deferred"]
#: Manifest statuses that do not mean "these bytes are loaded".
NOT_DONE = ("superseded", "deferred")

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
        "select count(*) from raw.load_manifest where batch_id = ? and status not in ('superseded', 'deferred')",
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

    def __init__(self, conn: duckdb.DuckDBPyConnection, landed: LandedFile, loaded_at: datetime,
                 limits: ReadLimits | None = None):
        self.conn = conn
        self.landed = landed
        self.batch_id = batch_id_for(landed)
        self.loaded_at = loaded_at
        self.limits = limits or ReadLimits()

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


_LINE_RULE_DETAIL = {
    "line_too_long": "line {row} is longer than {bytes} bytes (JOURNEY_MAX_LINE_BYTES)",
    "too_deeply_nested": "line {row} is nested deeper than {depth} levels (JOURNEY_MAX_JSON_DEPTH)",
}


def _stage_lines(batch: _Batch, encoding: str) -> tuple[int, int]:
    """The file's non-blank lines into ``_incoming`` (to parse) and quarantine (a line over the size
    or depth limit: refused before any JSON parser sees it). Returns (lines read, lines refused)."""
    conn = batch.conn
    conn.execute("create or replace temp table _incoming (_row_number bigint, line varchar)")
    conn.execute("create or replace temp table _refused_lines (_row_number bigint, line varchar, rule varchar)")
    for chunk in read_lines(batch.landed.path, encoding, batch.limits):
        conn.register("_chunk", chunk)
        conn.execute("insert into _incoming select _row_number, line from _chunk where rule is null")
        conn.execute("insert into _refused_lines select _row_number, line, rule from _chunk where rule is not null")
        conn.unregister("_chunk")
    refused = _count(conn, "select count(*) from _refused_lines")
    if refused:
        limits = batch.limits
        texts = {rule: text.format(row="@", bytes=limits.max_line_bytes, depth=limits.max_json_depth)
                 for rule, text in _LINE_RULE_DETAIL.items()}
        detail = "case rule " + " ".join(f"when '{rule}' then {_sql_literal(text)}" for rule, text in texts.items())
        detail += " end"
        batch.quarantine(
            f"""select null as entity, _row_number, rule, replace({detail}, '@', _row_number::varchar) as detail,
                       null as original_values, sha256(line) as content_sha256
                from _refused_lines"""
        )
    return _count(conn, "select count(*) from _incoming") + refused, refused


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
    rows_read, line_refused = _stage_lines(batch, encoding)
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
    quarantined = sum(n for _, ok, n in groups if not ok) + line_refused
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
    if quarantined > line_refused:
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
        elif column in entity.free_text_columns or column in entity.coded_columns:
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
    rows_read, refused = _stage_lines(batch, encoding)
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
    return rows_read, loaded, quarantined + bad_shape + refused, 0


def _load_csv(batch: _Batch, entity: Entity, encoding: str) -> tuple[int, int, int, int, str | None]:
    """Stream the CSV's records batch by batch into ``_staged`` (memory stays bounded, a ``.csv.gz``
    included), then number them by data row and apply the row rules."""
    conn = batch.conn
    parsed = open_csv_records(batch.landed.path, encoding, entity.columns)
    missing = [column for column in entity.required if column not in parsed.header]
    if missing:
        raise UnreadableFile(f"header lacks required column(s) {', '.join(missing)}", "missing_column")
    extra = [column for column in parsed.header if column not in entity.columns]
    columns = ", ".join(f'"{column}" varchar' for column in entity.columns)
    conn.execute(f"create or replace temp table _staged (_good bigint, {columns})")
    for chunk in parsed.batches():
        first = parsed.good - chunk.num_rows + 1
        conn.register("_parsed", chunk.add_column(0, "_good", pa.array(range(first, parsed.good + 1), pa.int64())))
        conn.execute("insert into _staged select * from _parsed")
        conn.unregister("_parsed")
    conn.register("_numbers", pa.table({"_row_number": pa.array(parsed.row_numbers())}))
    conn.execute("""create or replace temp table _rows as
                    select numbers._row_number, staged.* exclude (_good)
                    from _staged as staged
                    join (select _row_number, row_number() over (order by _row_number) as _good
                          from _numbers) as numbers using (_good)""")
    conn.unregister("_numbers")
    malformed = pa.table({
        "_row_number": pa.array([n for n, _ in parsed.malformed], type=pa.int64()),
        "line": pa.array([text for _, text in parsed.malformed], type=pa.string()),
    })
    if malformed.num_rows:
        conn.register("_malformed", malformed)
        batch.quarantine(
            f"""select '{entity.name}' as entity, _row_number, 'malformed_csv_row' as rule,
                       'data row ' || _row_number || ' has the wrong number of fields' as detail,
                       null as original_values, sha256(line) as content_sha256
                from _malformed"""
        )
        conn.unregister("_malformed")
    loaded, quarantined = _insert_text_rows(batch, entity)
    reason = f"ignored extra column(s): {', '.join(extra)}" if extra else None
    return parsed.records, loaded, quarantined + malformed.num_rows, 0, reason


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
        raise UnreadableFile(f"schema lacks required column(s) {', '.join(missing)}", "missing_column")
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
    conn: duckdb.DuckDBPyConnection, landed: LandedFile, *, run_id: str, loaded_at: datetime,
    limits: ReadLimits | None = None,
) -> FileLoad:
    """Load one landed file (in its own transaction) and record it in the manifest.

    Never raises for the file: whatever stops it being read or parsed (encoding, header, nesting,
    a corrupt gzip, permission, a vanished file, a link loop, an Arrow or DuckDB error, memory) rolls
    its rows back and records it ``rejected`` with the rule and reason and one file-level quarantine
    row; a file journey does not know is ``ignored``; a file whose size or modification time changed
    while it was read is rolled back and recorded ``deferred`` (read again next run). Only what the
    database itself cannot do (its disk, a fatal error, an interrupt) is raised.
    """
    batch = _Batch(conn, landed, loaded_at, limits)
    name = landed.path.name
    entity = None if file_format(name)[0] == "ndjson" else entity_for_file(landed.source, name)
    conn.execute("begin transaction")
    try:
        _forget_deferred(batch)
        before = _file_state(landed)
        try:
            result = _load_one(batch, entity)
        except Exception as error:  # noqa: BLE001 - one file never costs the night (see _refusal)
            rule, reason = _refusal(error)
            _restart(batch)
            result = _reject(batch, entity, rule, reason)
        changed = _changed(landed, before)
        if changed:
            _restart(batch)
            result = _reject(batch, entity, "changed_while_reading",
                             f"changed while it was read ({changed}); nothing loaded, read again next run")
        _manifest(batch, run_id, result)
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
    if result.status in ("rejected", "deferred"):
        log.warning("%s %s: %s", landed.relative_path, result.status, result.reason)
    log.info(
        "loaded file",
        extra={"file": result.relative_path, "status": result.status, "rows_read": result.rows_read,
               "rows_loaded": result.rows_loaded, "rows_quarantined": result.rows_quarantined},
    )
    return result


#: DuckDB errors that are about the database, not the file being loaded: raised, never a refusal.
_DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    duckdb.IOException, duckdb.FatalException, duckdb.InterruptException, duckdb.TransactionException,
)


def _refusal(error: Exception) -> tuple[str, str]:
    """(rule, reason) for an error that stopped one file being read; re-raises the errors that are
    the database's own (its disk, a fatal error), which would stop every file alike."""
    if isinstance(error, UnreadableFile):
        return error.rule, error.reason
    if isinstance(error, _DATABASE_ERRORS):
        raise error
    if isinstance(error, PermissionError):
        return "not_readable", f"not readable by this user ({error.strerror}); fix the file's permissions"
    if isinstance(error, FileNotFoundError):
        return "vanished", "the file disappeared while it was read"
    if isinstance(error, OSError) and error.errno == errno.ELOOP:
        return "symlink_loop", "a symbolic link loop"
    if isinstance(error, (MemoryError, duckdb.OutOfMemoryException)):
        return "out_of_memory", f"reading it ran out of memory ({type(error).__name__}: {error})"[:500]
    if isinstance(error, (pa.ArrowException, duckdb.Error, UnicodeError, ValueError, KeyError)):
        return "unparseable_file", f"could not be parsed ({type(error).__name__}: {error})"[:500]
    return "unreadable_file", f"could not be read ({type(error).__name__}: {error})"[:500]


#: Refusals that may pass by themselves (the file is rewritten, its permissions fixed, the share
#: back): the file is ``deferred``, not done, and read again by the next run.
RETRYABLE_RULES = frozenset({"changed_while_reading", "not_readable", "vanished"})


def _forget_deferred(batch: _Batch) -> None:
    """An earlier run deferred these bytes: this load replaces that record (and its row-0 quarantine row)."""
    deferred = "select batch_id from raw.load_manifest where batch_id = ? and status = 'deferred'"
    batch.conn.execute(f"delete from quarantine.rows where batch_id in ({deferred})", [batch.batch_id])
    batch.conn.execute("delete from raw.load_manifest where batch_id = ? and status = 'deferred'", [batch.batch_id])


def _restart(batch: _Batch) -> None:
    """Roll back whatever the file's load wrote; a new transaction to record its refusal in."""
    batch.conn.execute("rollback")
    batch.conn.execute("begin transaction")
    _forget_deferred(batch)


def _reject(batch: _Batch, entity: Entity | None, rule: str, reason: str) -> FileLoad:
    """Record the file refused: one quarantine row (row 0) naming path, rule and reason; ``deferred``
    for a ``RETRYABLE_RULES`` rule, else ``rejected``."""
    landed = batch.landed
    batch.quarantine(
        """select ? as entity, 0::bigint as _row_number, ? as rule, ? as detail,
                  null as original_values, ? as content_sha256""",
        [entity.name if entity else None, rule, f"{landed.relative_path}: {reason}", landed.sha256],
    )
    status: Status = "deferred" if rule in RETRYABLE_RULES else "rejected"
    return FileLoad(batch.batch_id, landed.relative_path, landed.source, None, 0, 0, 0, 0, status,
                    f"{reason} [rule: {rule}]" if status == "deferred" else reason)


def _file_state(landed: LandedFile) -> tuple[int, int, int] | None:
    """(inode, size, mtime_ns) now, or None when it cannot be read (the load then refuses it)."""
    try:
        stat = os.stat(landed.path)
    except OSError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def _changed(landed: LandedFile, before: tuple[int, int, int] | None) -> str | None:
    """How the file changed since it was fingerprinted or since its load began, or None."""
    after = _file_state(landed)
    if before is None or after is None:
        return None
    if after != before:
        return f"size {before[1]} → {after[1]} bytes" if after[1] != before[1] else "modified (mtime) during the load"
    if after[1] != landed.size_bytes:
        return f"size {landed.size_bytes} when fingerprinted, {after[1]} when read"
    if landed.file_stat and landed.file_stat != f"{after[0]}:{after[1]}:{after[2]}":
        return "modified since it was fingerprinted"
    return None


def _load_one(batch: _Batch, entity: Entity | None) -> FileLoad:
    landed = batch.landed

    kinds: dict[str, int] = {}

    def result(read: int, loaded: int, quarantined: int, skipped: int, status: Status,
               reason: str | None, encoding: str | None) -> FileLoad:
        return FileLoad(batch.batch_id, landed.relative_path, landed.source, encoding, read, loaded,
                        quarantined, skipped, status, reason, json.dumps(kinds) if kinds else None)

    file_kind = file_format(landed.path.name)[0]
    is_fhir = landed.source == "ehr" and file_kind == "ndjson"
    if not is_fhir and entity is None:
        return result(0, 0, 0, 0, "ignored", "not a file of the source contract", None)
    if landed.size_bytes == 0:
        # Hospital exports write a zero-byte file on a day with nothing to send: recorded, not an error.
        return result(0, 0, 0, 0, "empty", "empty file (0 bytes)", None)
    if file_kind == "parquet":
        assert entity is not None
        read, loaded, quarantined, reason = _load_parquet(batch, entity)
        status: Status = "loaded" if quarantined == 0 else "partial"
        return result(read, loaded, quarantined, 0, status, reason, None)
    encoding = detect_encoding(landed.path, batch.limits.source_encodings.get(landed.source))
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
        if read == 0:
            return result(0, 0, 0, 0, "empty", "header only (no data rows)", encoding)
    status = "loaded" if quarantined == 0 else "partial"
    return result(read, loaded, quarantined, skipped, status, reason, encoding)
