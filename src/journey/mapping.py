"""The site's code mapping (PLACEHOLDER of stream A's module, same interface; A's version replaces it).

A hospital maps its local codes without editing an export in ``<data_dir>/mapping/code_map.csv``
(``domain,source_system,source_code,target_code,comment``). This placeholder knows only the native
codes (the v3 ActEncounterCode set, the departments seed, SNOMED 21541000119102 = lwbs, journey's
location-role CodeSystem) plus the site file.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field

from journey.config import Settings
from journey.errors import ConfigError

ENCOUNTER_CLASSES: frozenset[str] = frozenset(
    {"AMB", "EMER", "FLD", "HH", "IMP", "ACUTE", "NONAC", "OBSENC", "PRENC", "SS", "VR"}
)
DOMAINS: tuple[str, ...] = ("encounter_class", "department", "discharge_disposition", "location_role")

_DEPARTMENTS = frozenset({
    "emergency", "internal_medicine", "surgery", "pediatrics", "obstetrics", "cardiology", "orthopedics",
    "dermatology", "ophthalmology", "oncology",
})
_LOCATION_ROLES = frozenset({"waiting-room", "triage", "treatment-room", "other"})
_LOCATION_ROLE_SYSTEM = "https://journey.example/fhir/CodeSystem/location-role"
_SNOMED = "http://snomed.info/sct"
_HEADER = ("domain", "source_system", "source_code", "target_code", "comment")


@dataclass(frozen=True)
class CodeMap:
    """Native codes plus the site file's lines: ``target`` gives the journey code, None = unmapped."""

    site: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (domain, system or '', code)
    fingerprint: str = ""

    def target(self, domain: str, system: str | None, code: str) -> str | None:
        for key in ((domain, system or "", code), (domain, "", code)):
            if key in self.site:
                return self.site[key]
        if domain == "encounter_class":
            return code if code in ENCOUNTER_CLASSES else None
        if domain == "department":
            return code if code in _DEPARTMENTS else None
        if domain == "discharge_disposition":
            return "lwbs" if code == "21541000119102" and system in (None, "", _SNOMED) else None
        if domain == "location_role":
            return code if system == _LOCATION_ROLE_SYSTEM and code in _LOCATION_ROLES else None
        return None


def _valid_target(domain: str, target: str) -> bool:
    if domain == "encounter_class":
        return target in ENCOUNTER_CLASSES
    if domain == "department":
        return target in _DEPARTMENTS
    if domain == "location_role":
        return target in _LOCATION_ROLES
    return bool(target)


def load_code_map(settings: Settings) -> CodeMap:
    """The site's code map (native codes only when ``<data_dir>/mapping/code_map.csv`` is absent)."""
    path = settings.root / "mapping" / "code_map.csv"
    if not path.is_file():
        return CodeMap()
    raw = path.read_bytes()
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    if not rows or tuple(cell.strip() for cell in rows[0]) != _HEADER:
        raise ConfigError(f"{path}, line 1: the header must be {','.join(_HEADER)}.")
    site: dict[tuple[str, str, str], str] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(_HEADER):
            raise ConfigError(f"{path}, line {number}: expected {len(_HEADER)} columns, found {len(row)}.")
        domain, system, code, target = (cell.strip() for cell in row[:4])
        if domain not in DOMAINS:
            raise ConfigError(f"{path}, line {number}: domain {domain!r} is not one of {', '.join(DOMAINS)}.")
        if not code:
            raise ConfigError(f"{path}, line {number}: source_code is empty.")
        if not _valid_target(domain, target):
            raise ConfigError(f"{path}, line {number}: target_code {target!r} is not valid for {domain}.")
        site[(domain, system, code)] = target
    return CodeMap(site=site, fingerprint=hashlib.sha256(raw).hexdigest())
