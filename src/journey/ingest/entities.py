"""What each landed entity looks like: its raw table, format, required fields and where patients hide.

This is the code form of data/README.md (the source contract). One entry per entity; the loader is
generic over them. What raw keeps of a FHIR resource is its allow-list in ``journey.ingest.allowlist``;
a CSV/JSONL entity keeps its ``columns`` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Format = Literal["ndjson", "csv", "jsonl"]
#: What a landed file's name says it holds: an entity format, or Parquet (any CSV/JSONL entity).
FileFormat = Literal["ndjson", "csv", "jsonl", "parquet"]

_FORMATS: dict[str, FileFormat] = {"ndjson": "ndjson", "jsonl": "jsonl", "csv": "csv", "parquet": "parquet"}
#: The compression journey reads (streamed), by extension.
COMPRESSIONS: dict[str, str] = {"gz": "gzip"}
#: Compressions and archives journey does not read: a file named so is refused as such, not as an
#: unknown format (``Encounter.ndjson.zip``, ``export.7z``, ``x.tar.gz``).
UNSUPPORTED_COMPRESSIONS = frozenset({"zip", "bz2", "7z", "xz", "zst", "zstd", "lz4", "lzma", "rar", "tar", "tgz",
                                      "z", "br", "sz", "snappy"})


@dataclass(frozen=True)
class Entity:
    """One landed entity (a FHIR resource type, or one CSV/JSONL file of a source)."""

    name: str
    source: str
    table: str
    format: Format
    #: FHIR: JSON paths (dotted) that must be present. CSV/JSONL: columns that must be non-empty.
    required: tuple[str, ...]
    #: CSV/JSONL: every contract column, in order (stored as text in raw).
    columns: tuple[str, ...] = ()
    #: CSV/JSONL: columns holding an EHR patient id (replaced by the patient key at load).
    patient_columns: tuple[str, ...] = ()
    #: CSV/JSONL: free-text columns scrubbed of phones, ID numbers and e-mails at load.
    free_text_columns: tuple[str, ...] = ()
    #: CSV/JSONL: coded columns, scrubbed the same way: a code never holds a phone or an ID, but a
    #: person may type one into the field (staging then publishes the code NULL, code_not_in_list).
    coded_columns: tuple[str, ...] = ()

    @property
    def fhir(self) -> bool:
        return self.format == "ndjson"


_FHIR = [
    Entity("Patient", "ehr", "ehr_patient", "ndjson", ("id",)),
    Entity("Encounter", "ehr", "ehr_encounter", "ndjson", ("id", "status", "class.code", "subject.reference")),
    Entity("Appointment", "ehr", "ehr_appointment", "ndjson", ("id", "status")),
    Entity("Slot", "ehr", "ehr_slot", "ndjson", ("id", "status")),
    Entity(
        "QuestionnaireResponse",
        "ehr",
        "ehr_questionnaire_response",
        "ndjson",
        ("id", "encounter.reference"),
    ),
    Entity("Location", "ehr", "ehr_location", "ndjson", ("id",)),
]

_FILES = [
    Entity(
        "campaigns",
        "crm",
        "crm_campaigns",
        "csv",
        ("campaign_id",),
        columns=("campaign_id", "name", "type", "channel", "department", "start_date", "end_date", "budget"),
        coded_columns=("type", "channel", "department"),
    ),
    Entity(
        "touches",
        "crm",
        "crm_touches",
        "jsonl",
        ("touch_id", "ts", "anonymous_id", "channel", "action"),
        columns=("touch_id", "ts", "anonymous_id", "patient_id", "channel", "campaign_id", "action"),
        patient_columns=("patient_id",),
        coded_columns=("channel", "action"),
    ),
    Entity(
        "follow_ups",
        "relations",
        "relations_follow_ups",
        "csv",
        ("follow_up_id", "encounter_id", "planned_day"),
        columns=(
            "follow_up_id",
            "encounter_id",
            "planned_day",
            "planned_at",
            "attempted_at",
            "completed_at",
            "outcome",
        ),
        coded_columns=("outcome",),
    ),
    Entity(
        "complaints",
        "relations",
        "relations_complaints",
        "csv",
        ("complaint_id", "received_at"),
        columns=(
            "complaint_id",
            "patient_id",
            "encounter_id",
            "department",
            "received_at",
            "first_response_at",
            "resolved_at",
            "category",
            "channel",
            "description",
        ),
        patient_columns=("patient_id",),
        free_text_columns=("description",),
        coded_columns=("department", "category", "channel"),
    ),
    Entity(
        "reviews",
        "relations",
        "relations_reviews",
        "jsonl",
        ("review_id", "rating", "posted_at"),
        columns=("review_id", "platform", "department", "rating", "text", "posted_at"),
        free_text_columns=("text",),
        coded_columns=("platform", "department"),
    ),
]

#: Every entity by name (FHIR resource type, or file stem).
ENTITIES: dict[str, Entity] = {entity.name: entity for entity in _FHIR + _FILES}

#: FHIR resource types journey reads; any other type is recorded in raw.ehr_other as skipped.
FHIR_TYPES: frozenset[str] = frozenset(entity.name for entity in _FHIR)


def file_format(file_name: str) -> tuple[FileFormat | None, str | None]:
    """(format, compression) a landed file's name declares, extensions in any case.

    ``Encounter.002.ndjson.gz`` → ``("ndjson", "gzip")``, ``touches.JSONL`` → ``("jsonl", None)``;
    a compression journey does not read gives ``(None, <its extension>)`` (``x.ndjson.zip`` →
    ``(None, "zip")``, ``x.tar.gz`` → ``(None, "tar")``); anything else ``(None, None)`` or, for
    ``x.txt.gz``, ``(None, "gzip")``. Only ``"gzip"`` (``COMPRESSIONS``) is a compression journey reads."""
    parts = file_name.lower().split(".")[1:]
    compression: str | None = None
    if parts and parts[-1] in COMPRESSIONS:
        compression = COMPRESSIONS[parts.pop()]
    if parts and parts[-1] in UNSUPPORTED_COMPRESSIONS:
        return None, parts[-1]
    return (_FORMATS.get(parts[-1]) if parts else None), compression


def file_entity(file_name: str) -> Entity | None:
    """The CSV/JSONL entity a file is named after (its name before the first dot, any case), whatever
    its source folder and extension (``None`` for FHIR names and unknown stems)."""
    entity = ENTITIES.get(file_name.split(".", 1)[0].lower())
    return None if entity is None or entity.fhir else entity


def entity_for_file(source: str, file_name: str) -> Entity | None:
    """The CSV/JSONL entity a non-FHIR file is, by source and file name (``None`` if unknown):
    ``<entity>[.<anything>].<format>[.gz]``, or ``.parquet``, extensions in any case."""
    entity = file_entity(file_name)
    if entity is None or entity.source != source:
        return None
    file_kind, compression = file_format(file_name)
    # Any CSV/JSONL entity may also be exported as Parquet (many CRM and survey tools write it);
    # Parquet compresses inside the file, so a compressed Parquet file is not one.
    if file_kind == "parquet":
        return entity if compression is None else None
    if file_kind != entity.format or compression not in (None, *COMPRESSIONS.values()):
        return None
    return entity


def entity_for_table(table: str) -> str | None:
    """The entity name loaded into raw table ``table`` (``None`` if no entity uses it)."""
    return next((entity.name for entity in ENTITIES.values() if entity.table == table), None)
