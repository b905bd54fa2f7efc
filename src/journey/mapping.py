"""The site's code mapping: ``<data_dir>/mapping/code_map.csv`` (optional), validated before a run.

A hospital maps its local codes to journey's without editing an export (data/README.md, "Code
mapping"). Columns ``domain,source_system,source_code,target_code,comment``; an empty
``source_system`` matches any system. The built-in defaults (the HL7 v3 ActEncounterCode classes,
SNOMED CT 21541000119102 = lwbs, journey's location-role CodeSystem) live in dbt seeds; dbt reads this
file too (model stg_ehr__code_map) and a site row overrides a default. This module only validates
it, so a bad line stops the run at its start with the file, line and rule, and gives dbt the
file's path and fingerprint (a changed mapping rebuilds staging in full).
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

from journey.config import Settings
from journey.errors import ConfigError

#: HL7 v3 ActEncounterCode (R4 value set http://terminology.hl7.org/ValueSet/v3-ActEncounterCode).
ENCOUNTER_CLASSES: frozenset[str] = frozenset(
    {"AMB", "EMER", "FLD", "HH", "IMP", "ACUTE", "NONAC", "OBSENC", "PRENC", "SS", "VR"}
)
DOMAINS: tuple[str, ...] = ("encounter_class", "department", "discharge_disposition", "location_role")
#: journey's discharge-disposition categories (seeds/discharge_disposition_categories.csv).
DISPOSITION_CATEGORIES: frozenset[str] = frozenset(
    {"home", "lwbs", "left_against_advice", "admitted", "transferred", "died", "other"}
)
LOCATION_ROLES: frozenset[str] = frozenset({"waiting-room", "triage", "treatment-room", "other"})
HEADER: tuple[str, ...] = ("domain", "source_system", "source_code", "target_code", "comment")


def code_map_path(settings: Settings) -> Path:
    """Where the site's mapping file lives."""
    return settings.root / "mapping" / "code_map.csv"


def _departments(settings: Settings) -> frozenset[str]:
    seed = settings.project_dir / "seeds" / "departments.csv"
    with seed.open(encoding="utf-8", newline="") as handle:
        return frozenset(row["code"] for row in csv.DictReader(handle))


@dataclass(frozen=True)
class CodeMap:
    """The site's mappings by (domain, system, code); ``system`` '' = any system."""

    entries: dict[tuple[str, str, str], str] = field(default_factory=dict)
    fingerprint: str = ""
    path: Path | None = None
    defaults: dict[tuple[str, str, str], str] = field(default_factory=dict)
    departments: frozenset[str] = frozenset()

    def target(self, domain: str, system: str | None, code: str) -> str | None:
        """The journey code ``code`` of ``system`` maps to in ``domain`` (site file, then the native
        codes: a v3 class, a disposition category, a department of seeds/departments.csv); None =
        unmapped. The same rule as dbt's (macros/fhir.sql ``mapped_code``, stg_ehr__encounters)."""
        code = code.strip()
        for table in (self.entries, self.defaults):
            for key in ((domain, (system or "").strip(), code), (domain, "", code)):
                if key in table:
                    return table[key]
        if domain == "encounter_class":
            return code.upper() if code.upper() in ENCOUNTER_CLASSES else None
        if domain == "discharge_disposition":
            return code.lower() if code.lower() in DISPOSITION_CATEGORIES else None
        if domain == "department":
            return code if code in self.departments else None
        return None


def _defaults(settings: Settings) -> dict[tuple[str, str, str], str]:
    seed = settings.project_dir / "seeds" / "code_map_defaults.csv"
    with seed.open(encoding="utf-8", newline="") as handle:
        return {(row["domain"], (row["source_system"] or "").strip(), row["source_code"].strip()): row["target_code"]
                for row in csv.DictReader(handle)}


def _allowed(settings: Settings) -> dict[str, frozenset[str]]:
    return {"encounter_class": ENCOUNTER_CLASSES, "department": _departments(settings),
            "discharge_disposition": DISPOSITION_CATEGORIES, "location_role": LOCATION_ROLES}


def load_code_map(settings: Settings) -> CodeMap:
    """The validated site mapping (empty when the file is absent). Raise ConfigError naming the file,
    the line and the rule on a bad header, a non-UTF-8 file, an unknown domain, an empty code, a
    target the domain does not allow, or a key mapped twice to different targets."""
    path = code_map_path(settings)
    defaults, departments = _defaults(settings), _departments(settings)
    if not path.is_file():
        return CodeMap(defaults=defaults, departments=departments)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 (byte {exc.start}); rule: encoding",
                          hint="Save the mapping file as UTF-8.") from exc
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header = tuple(cell.strip().lower() for cell in rows[0]) if rows else ()
    if header != HEADER:
        raise ConfigError(f"{path}, line 1: header must be {','.join(HEADER)}; rule: header",
                          hint="data/README.md, \"Code mapping\", shows the format.")
    allowed = _allowed(settings)
    entries: dict[tuple[str, str, str], str] = {}
    lines: dict[tuple[str, str, str], int] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        where = f"{path}, line {line}"
        if len(row) != len(HEADER):
            raise ConfigError(f"{where}: {len(row)} fields, expected {len(HEADER)}; rule: field_count")
        domain, system, code, target = (cell.strip() for cell in row[:4])
        if domain not in DOMAINS:
            raise ConfigError(f"{where}: unknown domain {domain!r} (one of {', '.join(DOMAINS)}); rule: domain")
        if not code:
            raise ConfigError(f"{where}: source_code is empty; rule: source_code")
        if target not in allowed[domain]:
            raise ConfigError(f"{where}: target {target!r} is not allowed for {domain} "
                              f"(one of {', '.join(sorted(allowed[domain]))}); rule: target")
        key = (domain, system, code)
        if key in entries and entries[key] != target:
            raise ConfigError(f"{where}: {domain} {system}|{code} already maps to {entries[key]!r} on line "
                              f"{lines[key]}, here to {target!r}; rule: duplicate")
        entries[key], lines[key] = target, line
    return CodeMap(entries, hashlib.sha256(data).hexdigest(), path, defaults, departments)


def code_map_vars(settings: Settings) -> dict[str, object]:
    """The dbt vars of the mapping: the file dbt reads ('' = built-in defaults only) and its
    fingerprint (part of the staging fingerprint, so a changed mapping rebuilds staging in full)."""
    path = code_map_path(settings)
    if not path.is_file():
        return {"code_map_path": "", "code_map_fingerprint": ""}
    return {"code_map_path": str(path), "code_map_fingerprint": hashlib.sha256(path.read_bytes()).hexdigest()}
