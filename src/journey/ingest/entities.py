"""What each landed entity looks like: its raw table, format, required fields and where patients hide.

This is the code form of data/README.md (the source contract). One entry per entity; the loader is
generic over them. What raw keeps of a FHIR resource is its allow-list in ``journey.ingest.allowlist``;
a CSV/JSONL entity keeps its ``columns`` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Format = Literal["ndjson", "csv", "jsonl"]


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
    ),
    Entity(
        "touches",
        "crm",
        "crm_touches",
        "jsonl",
        ("touch_id", "ts", "anonymous_id", "channel", "action"),
        columns=("touch_id", "ts", "anonymous_id", "patient_id", "channel", "campaign_id", "action"),
        patient_columns=("patient_id",),
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
    ),
    Entity(
        "reviews",
        "relations",
        "relations_reviews",
        "jsonl",
        ("review_id", "rating", "posted_at"),
        columns=("review_id", "platform", "department", "rating", "text", "posted_at"),
        free_text_columns=("text",),
    ),
]

#: Every entity by name (FHIR resource type, or file stem).
ENTITIES: dict[str, Entity] = {entity.name: entity for entity in _FHIR + _FILES}

#: FHIR resource types journey reads; any other type is recorded in raw.ehr_other as skipped.
FHIR_TYPES: frozenset[str] = frozenset(entity.name for entity in _FHIR)


def entity_for_file(source: str, file_name: str) -> Entity | None:
    """The CSV/JSONL entity a non-FHIR file is, by source and file name (``None`` if unknown)."""
    stem = file_name.split(".", 1)[0]
    entity = ENTITIES.get(stem)
    if entity is None or entity.source != source or entity.fhir:
        return None
    # Any CSV/JSONL entity may also be exported as Parquet (many CRM and survey tools write it).
    if not (file_name.endswith("." + entity.format) or file_name.endswith(".parquet")):
        return None
    return entity


def entity_for_table(table: str) -> str | None:
    """The entity name loaded into raw table ``table`` (``None`` if no entity uses it)."""
    return next((entity.name for entity in ENTITIES.values() if entity.table == table), None)
