"""What an export can and cannot feed, before anything is loaded (`journey profile`).

DuckDB reads the landed files (NDJSON, NDJSON.gz, JSONL as lines; CSV with its header; Parquet) in one
streaming scan per file kind and keeps one narrow row of facts per line; every figure is an aggregate
over those facts. Per source and resource type: lines, contract elements present (coverage %), date
ranges, coded values with counts and whether the site's code map maps them, implausible dates, lines
that are not resources, and which metrics the export can compute and why not. Nothing but counts,
codes of coded fields and date ranges leaves this module: no identifier, name or free text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from journey.config import Settings
from journey.errors import MissingInput, UsageError
from journey.ingest.pseudonymise import install_scrub_macros
from journey.mapping import CodeMap, load_code_map

SOURCES = ("ehr", "crm", "relations")
LOCATION_ROLE_SYSTEM = "https://journey.example/fhir/CodeSystem/location-role"
DEFAULT_DEPARTMENT_SOURCES = ("serviceType", "type", "serviceProvider", "location")
SENSITIVE_EXTENSIONS = {
    "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName": "patient-mothersMaidenName",
    "http://hl7.org/fhir/StructureDefinition/patient-birthPlace": "patient-birthPlace",
}
_TABULAR = {  # stem -> (source, contract columns, the column giving the date range)
    "campaigns": ("crm", ("campaign_id", "name", "type", "channel", "department", "start_date", "end_date",
                          "budget"), "start_date"),
    "touches": ("crm", ("touch_id", "ts", "anonymous_id", "patient_id", "channel", "campaign_id", "action"), "ts"),
    "follow_ups": ("relations", ("follow_up_id", "encounter_id", "planned_day", "planned_at", "attempted_at",
                                 "completed_at", "outcome"), "planned_at"),
    "complaints": ("relations", ("complaint_id", "patient_id", "encounter_id", "department", "received_at",
                                 "first_response_at", "resolved_at", "category", "channel", "description"),
                   "received_at"),
    "reviews": ("relations", ("review_id", "platform", "department", "rating", "text", "posted_at"), "posted_at"),
}

# Contract elements per FHIR type (data/README.md): name -> presence test over the parsed line `j`.
_SH = "coalesce(json_array_length(j -> '$.statusHistory'), 0) > 0"
ELEMENTS: dict[str, tuple[tuple[str, str], ...]] = {
    "Encounter": (
        ("status", "j ->> '$.status' is not null"),
        ("class.code", "coalesce(j ->> '$.class.code', j ->> '$.class[0].coding[0].code') is not null"),
        ("subject.reference", "j ->> '$.subject.reference' is not null"),
        ("period.start", "j ->> '$.period.start' is not null"),
        ("period.end", "j ->> '$.period.end' is not null"),
        ("statusHistory", _SH),
        ("location[]", "coalesce(json_array_length(j -> '$.location'), 0) > 0"),
        ("location[].period", "len(coalesce(json_extract(j, '$.location[*].period.start'), [])) > 0"),
        ("serviceType", "coalesce(j -> '$.serviceType.coding[0].code', j -> '$.serviceType[0].coding[0].code') "
                        "is not null"),
        ("type", "j ->> '$.type[0].coding[0].code' is not null"),
        ("serviceProvider", "coalesce(j ->> '$.serviceProvider.reference', "
                            "j ->> '$.serviceProvider.identifier.value') is not null"),
        ("hospitalization.dischargeDisposition",
         "j ->> '$.hospitalization.dischargeDisposition.coding[0].code' is not null"),
        ("appointment", "coalesce(json_array_length(j -> '$.appointment'), 0) > 0"),
    ),
    "Patient": (
        ("birthDate", "j ->> '$.birthDate' is not null"),
        ("gender", "j ->> '$.gender' is not null"),
        ("address", "coalesce(json_array_length(j -> '$.address'), 0) > 0"),
        ("address.district|city", "coalesce(j ->> '$.address[0].district', j ->> '$.address[0].city') is not null"),
        ("meta.lastUpdated", "j ->> '$.meta.lastUpdated' is not null"),
    ),
    "Location": (
        ("name", "j ->> '$.name' is not null"),
        ("type", "j ->> '$.type[0].coding[0].code' is not null"),
        ("physicalType", "j ->> '$.physicalType.coding[0].code' is not null"),
        ("identifier", "coalesce(json_array_length(j -> '$.identifier'), 0) > 0"),
    ),
    "Appointment": (
        ("status", "j ->> '$.status' is not null"),
        ("created", "j ->> '$.created' is not null"),
        ("start", "j ->> '$.start' is not null"),
        ("end", "j ->> '$.end' is not null"),
        ("serviceType", "j ->> '$.serviceType[0].coding[0].code' is not null"),
        ("participant.actor(Patient)",
         "len(list_filter(coalesce(json_extract_string(j, '$.participant[*].actor.reference'), []), "
         "lambda ref: ref like 'Patient%')) > 0"),
        ("cancelationReason", "j ->> '$.cancelationReason.coding[0].code' is not null"),
        ("slot", "coalesce(json_array_length(j -> '$.slot'), 0) > 0"),
        ("meta.lastUpdated", "j ->> '$.meta.lastUpdated' is not null"),
    ),
    "Slot": (
        ("status", "j ->> '$.status' is not null"),
        ("start", "j ->> '$.start' is not null"),
        ("end", "j ->> '$.end' is not null"),
        ("serviceType", "j ->> '$.serviceType[0].coding[0].code' is not null"),
        ("schedule.reference", "j ->> '$.schedule.reference' is not null"),
    ),
    "QuestionnaireResponse": (
        ("status", "j ->> '$.status' is not null"),
        ("encounter.reference", "j ->> '$.encounter.reference' is not null"),
        ("authored", "j ->> '$.authored' is not null"),
        ("item[nps]", "list_contains(coalesce(json_extract_string(j, '$.item[*].linkId'), []), 'nps')"),
        ("item[overall]", "list_contains(coalesce(json_extract_string(j, '$.item[*].linkId'), []), 'overall')"),
    ),
}
USED_TYPES = tuple(ELEMENTS)
# The date each type's range is read from.
_DATE_OF = {"Encounter": "$.period.start", "Appointment": "$.start", "Slot": "$.start",
            "QuestionnaireResponse": "$.authored", "Patient": "$.birthDate"}
# References whose target is named by a search (conditional references).
_REFERENCE_PATHS = ("$.subject.reference", "$.serviceProvider.reference", "$.location[*].location.reference",
                    "$.participant[*].individual.reference", "$.participant[*].actor.reference",
                    "$.encounter.reference")


# --------------------------------------------------------------------------------------------------
# the result
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Element:
    name: str
    present: int
    total: int

    @property
    def pct(self) -> float:
        return round(100.0 * self.present / self.total, 1) if self.total else 0.0


@dataclass(frozen=True)
class CodeCount:
    domain: str  # encounter_class, department, discharge_disposition, location_role, or a plain field name
    element: str
    system: str | None
    code: str | None
    count: int
    target: str | None  # the journey code it maps to (None = unmapped, or a field that is not mapped)
    mappable: bool  # whether the code map applies to this field

    @property
    def mapped(self) -> bool | None:
        return (self.target is not None) if self.mappable else None


@dataclass(frozen=True)
class Anomaly:
    rule: str
    count: int
    detail: str


@dataclass(frozen=True)
class Resource:
    source: str
    resource: str
    files: int
    lines: int
    first: str | None = None  # date range (UTC date of the type's main timestamp)
    last: str | None = None
    elements: list[Element] = field(default_factory=list)
    codes: list[CodeCount] = field(default_factory=list)


@dataclass(frozen=True)
class Metric:
    metric: str
    status: str  # computable, partial, no_data
    coverage_pct: float | None
    reason: str


@dataclass(frozen=True)
class Profile:
    root: str
    files: int
    resources: list[Resource]
    non_resource: dict[str, int]  # kind -> lines (export_log, OperationOutcome, malformed, ...)
    anomalies: list[Anomaly]
    metrics: list[Metric]
    ignored_files: int = 0

    def resource(self, name: str) -> Resource | None:
        return next((item for item in self.resources if item.resource == name), None)

    def metric(self, name: str) -> Metric:
        return next(item for item in self.metrics if item.metric == name)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for resource, item in zip(data["resources"], self.resources, strict=True):
            for element, source in zip(resource["elements"], item.elements, strict=True):
                element["pct"] = source.pct
            for code, source_code in zip(resource["codes"], item.codes, strict=True):
                code["mapped"] = source_code.mapped
        return data


# --------------------------------------------------------------------------------------------------
# finding the files
# --------------------------------------------------------------------------------------------------
def _kind(path: Path) -> tuple[str, str] | None:
    """(source, reader) of a landed file, or None for a file outside the contract."""
    name = path.name.lower()
    if name.endswith((".ndjson", ".ndjson.gz")):
        return "ehr", "ndjson"
    stem, _, suffix = name.partition(".")
    if stem in _TABULAR and suffix in ("csv", "jsonl", "parquet"):
        return _TABULAR[stem][0], suffix
    return None


def landing_files(root: Path) -> list[Path]:
    """Every regular file under ``root`` (a landing dir, one source's folder or a single drop)."""
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise UsageError(f"{root} is not a folder (give a landing dir: <data_dir>/landing or one drop).")
    return sorted(path for path in root.rglob("*") if path.is_file() and not path.name.startswith("."))


# --------------------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------------------
def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _file_list(paths: Sequence[Path]) -> str:
    return "[" + ", ".join(_quote(str(path)) for path in paths) + "]"


def _lines_sql(paths: Sequence[Path]) -> str:
    """Every non-blank line of NDJSON / JSONL files (gzip by extension) with its file, streamed."""
    return (
        f"select filename as file, line from read_csv({_file_list(paths)}, columns = {{'line': 'VARCHAR'}}, "
        "header = false, delim = chr(1), quote = '', escape = '', auto_detect = false, strict_mode = false, "
        "null_padding = true, filename = true, max_line_size = 8388608) "
        "where line is not null and trim(line) <> ''"
    )


def _date_sql(expr: str) -> str:
    """A FHIR date / dateTime (also partial: YYYY, YYYY-MM) as a UTC timestamp."""
    return (f"try_cast(case length({expr}) when 4 then {expr} || '-01-01' when 7 then {expr} || '-01' "
            f"else {expr} end as timestamptz)")


def _present_sql() -> str:
    cases = []
    for rtype, elements in ELEMENTS.items():
        items = ", ".join(f"case when {test} then {_quote(name)} end" for name, test in elements)
        cases.append(f"when {_quote(rtype)} then list_filter([{items}], lambda name: name is not null)")
    return "case rtype " + " ".join(cases) + " else []::varchar[] end"


def _facts_sql(paths: Sequence[Path]) -> str:
    refs = " || ".join(f"coalesce(json_extract_string(j, '{path}'), [])" if "*" in path
                       else f"coalesce([j ->> '{path}'], [])" for path in _REFERENCE_PATHS)
    date_cases = " ".join(f"when {_quote(rtype)} then {_date_sql(f'(j ->> {_quote(path)})')}"
                          for rtype, path in _DATE_OF.items())
    return f"""
        with raw as (
            select file, line, json_valid(line) as is_valid from ({_lines_sql(paths)})
        ), parsed as (
            select file, is_valid, case when is_valid then line::json end as j from raw
        ), typed as (
            select *, case when json_type(j) = 'OBJECT' then j ->> '$.resourceType' end as rtype from parsed
        )
        select
            file, is_valid, json_type(j) as json_kind, rtype,
            {_present_sql()} as present,
            case rtype {date_cases} end as main_at,
            {_date_sql("(j ->> '$.period.end')")} as end_at,
            j ->> '$.id' as rid,
            j ->> '$.subject.reference' as subject_ref,
            j ->> '$.status' as status,
            coalesce(j ->> '$.class.system', j ->> '$.class[0].coding[0].system') as class_system,
            coalesce(j ->> '$.class.code', j ->> '$.class[0].coding[0].code') as class_code,
            coalesce(j ->> '$.serviceType.coding[0].system', j ->> '$.serviceType[0].coding[0].system')
                as service_type_system,
            coalesce(j ->> '$.serviceType.coding[0].code', j ->> '$.serviceType[0].coding[0].code') as service_type,
            j ->> '$.type[0].coding[0].system' as type_system,
            j ->> '$.type[0].coding[0].code' as type_code,
            nullif(regexp_extract(j ->> '$.serviceProvider.reference', '^Organization/([^/?]+)$', 1), '')
                as provider_id,
            j ->> '$.hospitalization.dischargeDisposition.coding[0].system' as disposition_system,
            j ->> '$.hospitalization.dischargeDisposition.coding[0].code' as disposition_code,
            j ->> '$.gender' as gender,
            coalesce(json_extract_string(j, '$.statusHistory[*].status'), []) as history,
            list_transform(
                list_filter(coalesce(json_extract(j, '$.location[*]'), []), lambda item:
                            json_extract_string(item, '$.period.start') is not null),
                lambda item: json_extract_string(item, '$.location.reference')) as timed_locations,
            coalesce(json_extract_string(j, '$.extension[*].url'), []) as extension_urls,
            list_filter({refs}, lambda ref: ref like '%?%') as conditional_refs,
            list_transform(coalesce(json_extract(j, '$.identifier[*]'), []),
                           lambda item: coalesce(json_extract_string(item, '$.system'), '') || '|'
                                        || json_extract_string(item, '$.value')) as tokens,
            list_transform(coalesce(json_extract(j, '$.type[*].coding[*]'), []) ||
                           coalesce(json_extract(j, '$.physicalType.coding[*]'), []),
                           lambda item: struct_pack(system := json_extract_string(item, '$.system'),
                                                       code := json_extract_string(item, '$.code')))
                as location_codings,
            j ->> '$.cancelationReason.coding[0].code' as cancel_reason
        from typed"""


# --------------------------------------------------------------------------------------------------
# profiling
# --------------------------------------------------------------------------------------------------
def profile_files(paths: Iterable[Path], settings: Settings, *, root: Path | None = None,
                  now: datetime | None = None) -> Profile:
    """Profile landed files (the nightly run passes the night's files). ``now`` decides "future"."""
    files = sorted(set(paths))
    kinds = {path: _kind(path) for path in files}
    known = [path for path in files if kinds[path] is not None]
    code_map = load_code_map(settings)
    now = now or datetime.now(UTC)
    tolerance = timedelta(minutes=settings.thresholds.future_tolerance_minutes)
    conn = duckdb.connect()
    try:
        conn.execute("set timezone = 'UTC'")
        install_scrub_macros(conn)  # a code field may hold what a person typed: never reported unscrubbed
        ndjson = [path for path in known if kinds[path] == ("ehr", "ndjson")]
        resources: list[Resource] = []
        non_resource: dict[str, int] = {}
        anomalies: list[Anomaly] = []
        if ndjson:
            conn.execute(f"create temp table facts as {_facts_sql(ndjson)}")
            conn.execute("create temp table location_role (ref varchar, role varchar)")
            _register_maps(conn, code_map)
            resources, non_resource = _fhir_resources(conn, code_map)
            anomalies = _fhir_anomalies(conn, now + tolerance, settings)
        for stem, (source, columns, date_column) in _TABULAR.items():
            group = [path for path in known if path.name.lower().partition(".")[0] == stem]
            if group:
                resources.append(_tabular(conn, stem, source, columns, date_column, group, kinds, code_map))
        metrics = _metrics(conn, resources, bool(ndjson))
    finally:
        conn.close()
    base = root if root is not None else (Path(files[0]).parent if files else Path("."))
    return Profile(root=str(base), files=len(files), resources=resources, non_resource=non_resource,
                   anomalies=anomalies, metrics=metrics, ignored_files=len(files) - len(known))


def profile_landing(root: Path, settings: Settings, *, now: datetime | None = None) -> Profile:
    """``journey profile <landing dir>``: every file under ``root``."""
    files = landing_files(root)
    if not any(_kind(path) for path in files):
        raise MissingInput(f"No landed file under {root} (expected *.ndjson[.gz], or the crm/relations files "
                           "of data/README.md).")
    return profile_files(files, settings, root=root, now=now)


def _rows(conn: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
    return conn.execute(sql, list(params)).fetchall()


def _fhir_resources(conn: duckdb.DuckDBPyConnection, code_map: CodeMap) -> tuple[list[Resource], dict[str, int]]:
    resources = []
    summary = _rows(conn, """
        select rtype, count(distinct file), count(*),
               min(main_at)::date::varchar, max(main_at)::date::varchar
        from facts where rtype is not null group by rtype order by rtype""")
    present = {(rtype, name): count for rtype, name, count in _rows(conn, """
        select rtype, name, count(*) from (select rtype, unnest(present) as name from facts) group by all""")}
    for rtype, files, lines, first, last in summary:
        if rtype not in ELEMENTS or rtype == "OperationOutcome":
            continue
        if rtype == "Patient":  # birth dates are identifying: the profile shows their years only
            first, last = (first or "")[:4] or None, (last or "")[:4] or None
        elements = [Element(name, present.get((rtype, name), 0), lines) for name, _ in ELEMENTS[rtype]]
        resources.append(Resource("ehr", rtype, files, lines, first, last, elements, _codes(conn, rtype, code_map)))
    unused = _rows(conn, """
        select rtype, count(distinct file), count(*) from facts
        where rtype is not null and rtype not in ({}) and rtype <> 'OperationOutcome'
        group by rtype order by rtype""".format(", ".join(_quote(name) for name in USED_TYPES)))
    resources += [Resource("ehr", f"{rtype} (not used)", files, lines) for rtype, files, lines in unused]
    kinds = _rows(conn, """
        select case when not is_valid then 'malformed_json'
                    when json_kind <> 'OBJECT' then 'not_a_json_object'
                    when rtype = 'OperationOutcome' then 'OperationOutcome'
                    when regexp_matches(lower(file), '(^|/)[^/]*log[^/]*\\.ndjson(\\.gz)?$') then 'export_log'
                    else 'no_resourceType' end as kind, count(*)
        from facts where rtype is null or rtype = 'OperationOutcome' group by kind order by kind""")
    return resources, {kind: count for kind, count in kinds}


def _code_rows(conn: duckdb.DuckDBPyConnection, rtype: str, system: str, code: str) -> list[tuple[Any, ...]]:
    return _rows(conn, f"""
        select {system}, journey_scrub({code}), count(*) from facts where rtype = ?
        group by all order by count(*) desc, 2 nulls last""", [rtype])


def _mapped(code_map: CodeMap, domain: str, system: str | None, code: str | None) -> str | None:
    return code_map.target(domain, system, code) if code is not None else None


def _codes(conn: duckdb.DuckDBPyConnection, rtype: str, code_map: CodeMap) -> list[CodeCount]:
    """Coded fields of a type with counts; the code map decides ``mapped`` where it applies."""
    mapped_fields = {
        "Encounter": (("encounter_class", "class.code", "class_system", "class_code"),
                      ("department", "serviceType", "service_type_system", "service_type"),
                      ("department", "type", "type_system", "type_code"),
                      ("department", "serviceProvider", "null::varchar", "provider_id"),
                      ("discharge_disposition", "hospitalization.dischargeDisposition", "disposition_system",
                       "disposition_code")),
        "Appointment": (("department", "serviceType", "service_type_system", "service_type"),),
        "Slot": (("department", "serviceType", "service_type_system", "service_type"),),
    }
    plain_fields = {"Encounter": ("status",), "Appointment": ("status", "cancel_reason"), "Slot": ("status",),
                    "QuestionnaireResponse": ("status",), "Patient": ("gender",)}
    codes: list[CodeCount] = []
    for domain, element, system_col, code_col in mapped_fields.get(rtype, ()):
        for system, code, count in _code_rows(conn, rtype, system_col, code_col):
            if code is None and element != "class.code":
                continue  # absence is in the element's coverage
            codes.append(CodeCount(domain, element, system, code, count, _mapped(code_map, domain, system, code),
                                   True))
    for column in plain_fields.get(rtype, ()):
        for _, code, count in _code_rows(conn, rtype, "null::varchar", column):
            if code is not None:
                codes.append(CodeCount(column, column, None, code, count, None, False))
    if rtype == "Encounter":
        codes += _location_roles(conn, code_map)
    return codes


def _location_roles(conn: duckdb.DuckDBPyConnection, code_map: CodeMap) -> list[CodeCount]:
    """Timed encounter locations by the role they resolve to (from the Location resource's type /
    physicalType, the code map by id or identifier token, or the id's keywords): no location id is
    reported, only the role."""
    refs = [ref for (ref,) in _rows(conn, "select distinct unnest(timed_locations) from facts "
                                          "where rtype = 'Encounter'") if ref is not None]
    locations = _rows(conn, "select rid, tokens, location_codings from facts where rtype = 'Location'")
    by_key: dict[str, tuple[str | None, list[str], list[dict[str, str | None]]]] = {}
    for rid, tokens, codings in locations:
        entry = (rid, list(tokens or []), list(codings or []))
        if rid:
            by_key[f"Location/{rid}"] = entry
        for token in entry[1]:
            system, _, value = token.partition("|")
            by_key[f"Location?identifier={token}"] = entry
            by_key[f"Location?identifier={value}"] = by_key.get(f"Location?identifier={value}", entry)
    roles: list[tuple[str, str]] = []
    for ref in refs:
        roles.append((ref, _role(ref, by_key.get(ref), code_map) or "unresolved"))
    if roles:
        conn.executemany("insert into location_role values (?, ?)", roles)
    counts = _rows(conn, """
        select coalesce(location_role.role, 'unresolved'), count(*) from
            (select unnest(timed_locations) as ref from facts where rtype = 'Encounter') as used
        left join location_role using (ref) group by all order by 2 desc""")
    return [CodeCount("location_role", "location[].period", None, role, count,
                      None if role == "unresolved" else role, True) for role, count in counts]


_KEYWORDS = (("wait", "waiting-room"), ("triag", "triage"), ("treat", "treatment-room"),
             ("room", "treatment-room"), ("bay", "treatment-room"))


def _role(ref: str, location: tuple[str | None, list[str], list[dict[str, str | None]]] | None,
          code_map: CodeMap) -> str | None:
    if location is not None:
        for coding in location[2]:
            if coding.get("code"):
                role = code_map.target("location_role", coding.get("system"), str(coding["code"]))
                if role:
                    return role
        for key in ([location[0]] if location[0] else []) + location[1]:
            role = code_map.target("location_role", None, key)
            if role:
                return role
    local = ref.split("/", 1)[1] if ref.startswith("Location/") else ref.partition("identifier=")[2]
    role = code_map.target("location_role", None, local)
    if role:
        return role
    if location is not None and location[0]:
        local = location[0]
    for keyword, keyword_role in _KEYWORDS:
        if keyword in local.lower():
            return keyword_role
    return None


def _fhir_anomalies(conn: duckdb.DuckDBPyConnection, horizon: datetime, settings: Settings) -> list[Anomaly]:
    found: list[Anomaly] = []

    def add(rule: str, detail: str, sql: str, params: Sequence[object] = ()) -> None:
        row = conn.execute(sql, list(params)).fetchone()
        count = int(row[0]) if row and row[0] is not None else 0
        if count:
            found.append(Anomaly(rule, count, detail))

    add("encounter_end_before_start", "Encounter period.end earlier than period.start",
        "select count(*) from facts where rtype = 'Encounter' and end_at < main_at")
    add("future_dated", f"main timestamp later than now + {settings.thresholds.future_tolerance_minutes} min "
        "(JOURNEY_THRESHOLDS__FUTURE_TOLERANCE_MINUTES)",
        "select count(*) from facts where rtype in ('Encounter', 'QuestionnaireResponse', 'Patient') "
        "and main_at > ?", [horizon])
    add("unparseable_date", "a date the contract reads is not an ISO 8601 date/dateTime",
        "select count(*) from facts where rtype in ({}) and main_at is null and list_contains(present, "
        "case rtype when 'Encounter' then 'period.start' when 'Patient' then 'birthDate' else 'start' end)".format(
            ", ".join(_quote(name) for name in ("Encounter", "Patient", "Appointment", "Slot"))))
    add("birth_after_first_visit", "Patient birthDate after the patient's first Encounter period.start", """
        with first_visit as (
            select subject_ref, min(main_at) as first_at from facts where rtype = 'Encounter' group by all
        )
        select count(*) from facts as patient
        join first_visit on first_visit.subject_ref = 'Patient/' || patient.rid
        where patient.rtype = 'Patient' and patient.main_at::date > first_visit.first_at::date""")
    add("conditional_reference", "conditional references (Type?identifier=...) that staging must "
        "resolve by identifier", "select count(*) from (select unnest(conditional_refs) from facts)")
    for url, name in SENSITIVE_EXTENSIONS.items():
        add(f"extension:{name}", "Patient extension naming a relative or a place (must not survive load)",
            "select count(*) from facts where rtype = 'Patient' and list_contains(extension_urls, ?)", [url])
    return found


def _tabular(conn: duckdb.DuckDBPyConnection, stem: str, source: str, columns: tuple[str, ...], date_column: str,
             group: list[Path], kinds: dict[Path, tuple[str, str] | None], code_map: CodeMap) -> Resource:
    """A CSV / JSONL / Parquet entity: rows, contract columns filled, date range."""
    parts = []
    for reader in ("csv", "jsonl", "parquet"):
        paths = [path for path in group if kinds[path] == (source, reader)]
        if not paths:
            continue
        if reader == "csv":
            relation = f"read_csv({_file_list(paths)}, header = true, all_varchar = true, union_by_name = true)"
        elif reader == "parquet":
            relation = f"read_parquet({_file_list(paths)}, union_by_name = true)"
        else:
            relation = f"(select line::json as j from ({_lines_sql(paths)}) where json_valid(line))"
        present = set(_column_names(conn, relation)) if reader != "jsonl" else set(columns)
        values = ", ".join(
            (f"nullif(trim(j ->> {_quote(column)}), '') as {column}" if reader == "jsonl" else
             f"nullif(trim({column}::varchar), '') as {column}" if column in present else
             f"null::varchar as {column}") for column in columns)
        parts.append(f"select {values} from {relation}")
    conn.execute(f"create or replace temp table tab_{stem} as " + " union all ".join(parts))
    filled = ", ".join(f"count({column})" for column in columns)
    row = conn.execute(f"select count(*), {filled}, min(try_cast({date_column} as timestamp))::date::varchar, "
                       f"max(try_cast({date_column} as timestamp))::date::varchar from tab_{stem}").fetchone()
    assert row is not None
    lines = int(row[0])
    elements = [Element(column, int(row[index + 1]), lines) for index, column in enumerate(columns)]
    codes = []
    if "department" in columns:
        for code, count in _rows(conn, f"select journey_scrub(department), count(*) from tab_{stem} "
                                       "where department is not null "
                                       "group by all order by 2 desc"):
            codes.append(CodeCount("department", "department", None, code, count,
                                   code_map.target("department", None, code), True))
    return Resource(source, stem, len(group), lines, row[-2], row[-1], elements, codes)


def _column_names(conn: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    return [str(name).lower() for name, *_ in conn.execute(f"describe select * from {relation}").fetchall()]


# --------------------------------------------------------------------------------------------------
# which metrics the export can feed
# --------------------------------------------------------------------------------------------------
def _coverage(conn: duckdb.DuckDBPyConnection, units: str, evidence: str) -> tuple[int, int]:
    row = conn.execute(f"select count(*), count(*) filter (where {evidence}) from facts "
                       f"left join location_evidence using (rid, file) where {units}").fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def _status(metric: str, total: int, with_evidence: int, missing: str, needs: str) -> Metric:
    if total == 0:
        return Metric(metric, "no_data", None, f"no {missing} in the export; needs {needs}")
    pct = round(100.0 * with_evidence / total, 1)
    if with_evidence == 0:
        return Metric(metric, "no_data", 0.0, f"none of {total} {missing} has {needs}")
    if with_evidence < total:
        return Metric(metric, "partial", pct, f"{with_evidence} of {total} {missing} have {needs}; "
                                               "the rest are NULL")
    return Metric(metric, "computable", pct, f"every {missing.rstrip('s')} has {needs}")


def _source_metric(metric: str, resources: list[Resource], needs: tuple[str, ...], why: str) -> Metric:
    lines = {item.resource: item.lines for item in resources}
    absent = [name for name in needs if not lines.get(name)]
    if absent:
        return Metric(metric, "no_data", None, f"needs {why}: {', '.join(absent)} absent or empty")
    return Metric(metric, "computable", 100.0, f"{why} present ({', '.join(f'{lines[n]} {n}' for n in needs)})")


def _metrics(conn: duckdb.DuckDBPyConnection, resources: list[Resource], fhir: bool) -> list[Metric]:
    metrics: list[Metric] = []
    if fhir:
        _evidence_tables(conn)
        emer = "rtype = 'Encounter' and class_target = 'EMER'"
        inpatient = "rtype = 'Encounter' and class_target in ('IMP', 'ACUTE', 'NONAC')"
        encounters = "rtype = 'Encounter'"
        checks = (
            ("encounter_volume", encounters, "class_target is not null and main_at is not null", "encounters",
             "a known class (v3 ActEncounterCode or mapped) and period.start"),
            ("department_breakdown", encounters, "department_target is not null", "encounters",
             "a known department (serviceType, type, serviceProvider; mapped)"),
            ("ed_door_to_triage", emer, "list_contains(history, 'triaged') or has_triage_location", "ED encounters",
             "statusHistory 'triaged' or a triage location period"),
            ("ed_door_to_provider", emer, "list_contains(history, 'in-progress') or has_treatment_location",
             "ED encounters", "statusHistory 'in-progress' or a treatment-room location period"),
            ("ed_lwbs", emer, "disposition_code is not null or list_contains(history, 'in-progress') "
             "or has_treatment_location", "ED encounters",
             "a discharge disposition or tracking (statusHistory in-progress / treatment-room location)"),
            ("ed_length_of_stay", emer, "main_at is not null and (end_at is not null or "
             "list_contains(history, 'finished'))", "ED encounters", "period.start and period.end"),
            ("inpatient_length_of_stay", inpatient, "main_at is not null and end_at is not null",
             "inpatient encounters", "period.start and period.end"),
            ("age_band", encounters, "has_birth_date", "encounters", "a Patient with birthDate"),
            ("return_visits", encounters, "subject_ref like 'Patient/%' and main_at is not null", "encounters",
             "subject.reference and period.start"),
        )
        for metric, units, evidence, missing, needs in checks:
            total, with_evidence = _coverage(conn, units, evidence)
            metrics.append(_status(metric, total, with_evidence, missing, needs))
        total, with_evidence = _coverage(conn, "rtype = 'QuestionnaireResponse'",
                                         "list_contains(present, 'item[nps]')")
        metrics.append(_status("nps", total, with_evidence, "QuestionnaireResponses", "item nps")
                       if total else _no_source("nps", "QuestionnaireResponse (post-visit survey)"))
        total, with_evidence = _coverage(conn, "rtype = 'QuestionnaireResponse'",
                                         "list_contains(present, 'item[overall]')")
        metrics.append(_status("overall_top_box_pct", total, with_evidence, "QuestionnaireResponses",
                               "item overall") if total else
                       _no_source("overall_top_box_pct", "QuestionnaireResponse (post-visit survey)"))
    metrics.append(_source_metric("response_rate", resources, ("Encounter", "QuestionnaireResponse"),
                                  "Encounters and QuestionnaireResponses"))
    if not fhir:
        metrics += [_no_source(name, "FHIR NDJSON (ehr/)") for name in
                    ("encounter_volume", "ed_door_to_provider", "ed_lwbs", "nps", "overall_top_box_pct")]
    appointments = next((item for item in resources if item.resource == "Appointment"), None)
    if appointments is None:
        metrics += [_no_source(name, "Appointment resources") for name in
                    ("no_show_rate", "late_cancel_rate", "booking_lead_time")]
    else:
        total, with_status = _coverage(conn, "rtype = 'Appointment'", "status is not null and main_at is not null")
        metrics.append(_status("no_show_rate", total, with_status, "Appointments", "status and start"))
        metrics.append(_status("late_cancel_rate", total, with_status, "Appointments", "status and start"))
        total, with_created = _coverage(conn, "rtype = 'Appointment'",
                                        "list_contains(present, 'created') and main_at is not null")
        metrics.append(_status("booking_lead_time", total, with_created, "Appointments", "created and start"))
    metrics.append(_source_metric("third_next_available", resources, ("Slot",), "Slot snapshots"))
    metrics.append(_source_metric("follow_up_on_time_rate", resources, ("Encounter", "follow_ups"),
                                  "Encounters and relations/follow_ups"))
    metrics.append(_source_metric("complaint_response_24h_rate", resources, ("complaints",),
                                  "relations/complaints"))
    metrics.append(_source_metric("complaint_resolution_7wd_rate", resources, ("complaints",),
                                  "relations/complaints"))
    metrics.append(_source_metric("review_rating", resources, ("reviews",), "relations/reviews"))
    metrics.append(_source_metric("campaign_funnel", resources, ("campaigns", "touches"),
                                  "crm/campaigns and crm/touches"))
    return metrics


def _no_source(metric: str, needs: str) -> Metric:
    return Metric(metric, "no_data", None, f"needs {needs}: absent from the export")


def _evidence_tables(conn: duckdb.DuckDBPyConnection) -> None:
    """Per encounter: mapped class / department, location-role evidence, the patient's birth date."""
    conn.execute("""
        create or replace temp table location_evidence as
        select facts.rid, facts.file,
               bool_or(location_role.role = 'triage') as has_triage_location,
               bool_or(location_role.role = 'treatment-room') as has_treatment_location
        from facts, unnest(facts.timed_locations) as used(ref)
        join location_role on location_role.ref = used.ref
        where facts.rtype = 'Encounter' group by all""")
    conn.execute("alter table facts add column class_target varchar")
    conn.execute("alter table facts add column department_target varchar")
    conn.execute("alter table facts add column has_birth_date boolean")
    conn.execute("""update facts set class_target = class_map.target from class_map
                    where facts.class_code = class_map.code
                      and facts.class_system is not distinct from class_map.system""")
    conn.execute("""update facts set department_target = coalesce(
                        (select target from department_map where department_map.code = facts.service_type
                            and department_map.system is not distinct from facts.service_type_system),
                        (select target from department_map where department_map.code = facts.type_code
                            and department_map.system is not distinct from facts.type_system),
                        (select target from department_map where department_map.code = facts.provider_id
                            and department_map.system is null))
                    where rtype = 'Encounter'""")
    conn.execute("""update facts set has_birth_date = facts.subject_ref in (
                        select 'Patient/' || rid from facts where rtype = 'Patient' and main_at is not null)
                    where rtype = 'Encounter'""")


def _register_maps(conn: duckdb.DuckDBPyConnection, code_map: CodeMap) -> None:
    """The code map applied to the distinct codes of the export (a few rows) as join tables."""
    conn.execute("create or replace temp table class_map (system varchar, code varchar, target varchar)")
    conn.execute("create or replace temp table department_map (system varchar, code varchar, target varchar)")
    classes = _rows(conn, "select distinct class_system, class_code from facts where rtype = 'Encounter' "
                          "and class_code is not null")
    conn.executemany("insert into class_map values (?, ?, ?)",
                     [(s, c, code_map.target("encounter_class", s, c)) for s, c in classes] or [(None, None, None)])
    departments = _rows(conn, """
        select distinct service_type_system, service_type from facts where service_type is not null
        union select distinct type_system, type_code from facts where type_code is not null
        union select distinct null, provider_id from facts where provider_id is not null""")
    conn.executemany("insert into department_map values (?, ?, ?)",
                     [(s, c, code_map.target("department", s, c)) for s, c in departments] or [(None, None, None)])


# --------------------------------------------------------------------------------------------------
# the nightly record
# --------------------------------------------------------------------------------------------------
PROFILE_TABLE = "ops.landing_profile"


def profile_rows(profile: Profile) -> list[tuple[object, ...]]:
    """The profile as long rows: (source, resource, kind, name, system, code, count, total, pct, mapped, status,
    detail)."""
    rows: list[tuple[object, ...]] = []
    for item in profile.resources:
        rows.append((item.source, item.resource, "lines", "lines", None, None, item.lines, item.files, None, None,
                     None, f"{item.first or ''}..{item.last or ''}"))
        for element in item.elements:
            rows.append((item.source, item.resource, "element", element.name, None, None, element.present,
                         element.total, element.pct, None, None, None))
        for code in item.codes:
            rows.append((item.source, item.resource, "code", code.element, code.system, code.code, code.count,
                         None, None, code.mapped, code.domain, code.target))
    for kind, count in profile.non_resource.items():
        rows.append(("ehr", None, "non_resource", kind, None, None, count, None, None, None, None, None))
    for anomaly in profile.anomalies:
        rows.append((None, None, "anomaly", anomaly.rule, None, None, anomaly.count, None, None, None, None,
                     anomaly.detail))
    for metric in profile.metrics:
        rows.append((None, None, "metric", metric.metric, None, None, None, None, metric.coverage_pct, None,
                     metric.status, metric.reason))
    return rows


def record_profile(conn: duckdb.DuckDBPyConnection, run_id: str, profile: Profile,
                   recorded_at: datetime | None = None) -> int:
    """Write the profile of a night's files into ``ops.landing_profile`` (replacing that run's rows)."""
    conn.execute("create schema if not exists ops")
    conn.execute(f"""create table if not exists {PROFILE_TABLE} (
        run_id varchar not null, recorded_at timestamp not null, source varchar, resource varchar,
        kind varchar not null, name varchar not null, code_system varchar, code varchar, count bigint,
        total bigint, pct double, mapped boolean, status varchar, detail varchar)""")
    conn.execute(f"delete from {PROFILE_TABLE} where run_id = ?", [run_id])
    stamp = (recorded_at or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    rows = [(run_id, stamp, *row) for row in profile_rows(profile)]
    if rows:
        conn.executemany(f"insert into {PROFILE_TABLE} values ({', '.join('?' * 14)})", rows)
    return len(rows)


# --------------------------------------------------------------------------------------------------
# text
# --------------------------------------------------------------------------------------------------
def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"


_SAFE = re.compile(r"[\x00-\x1f]")


def render(profile: Profile) -> str:
    """A plain-text report (codes, counts and dates only)."""
    out = [f"profile of {profile.root}: {profile.files} files"
           + (f" ({profile.ignored_files} outside the contract, ignored)" if profile.ignored_files else "")]
    for item in profile.resources:
        span = f"  {item.first} .. {item.last}" if item.first else ""
        out.append("")
        out.append(f"{item.source}/{item.resource}: {item.lines} lines in {item.files} files{span}")
        for element in item.elements:
            out.append(f"  {element.name:<40} {element.present:>9} / {element.total:<9} {_pct(element.pct):>7}")
        for code in item.codes:
            state = "" if code.mapped is None else ("mapped -> " + str(code.target) if code.mapped else "UNMAPPED")
            label = _SAFE.sub("?", f"{code.system + '|' if code.system else ''}{code.code}")
            out.append(f"  {code.domain:<22} {code.element:<24} {label:<50} {code.count:>9}  {state}")
    if profile.non_resource:
        out.append("")
        out.append("lines that are not resources (skipped, not errors):")
        out += [f"  {kind:<24} {count:>9}" for kind, count in profile.non_resource.items()]
    out.append("")
    out.append("implausible or notable:" if profile.anomalies else "implausible or notable: none")
    out += [f"  {anomaly.rule:<36} {anomaly.count:>9}  {anomaly.detail}" for anomaly in profile.anomalies]
    out.append("")
    out.append("metrics:")
    out += [f"  {metric.metric:<32} {metric.status:<11} {_pct(metric.coverage_pct):>7}  {metric.reason}"
            for metric in profile.metrics]
    return "\n".join(out)


def record_night(conn: duckdb.DuckDBPyConnection, run_id: str, paths: Iterable[Path], settings: Settings,
                 *, now: datetime | None = None) -> Profile:
    """What the nightly run calls on the night's files: profile them and record it in ops.landing_profile."""
    profile = profile_files(paths, settings, now=now)
    record_profile(conn, run_id, profile, recorded_at=now)
    return profile
