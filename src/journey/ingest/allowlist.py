"""What raw keeps of each FHIR resource: one declarative allow-list per resource type, compiled to SQL.

Data minimisation at the door (data/README.md, "ehr/"): a resource reaches raw as a **new** object
built from the elements its spec names, so everything else — unknown elements, extensions and
modifierExtensions at any depth, narrative, Reference displays and types, ``reasonCode``,
``Appointment.comment``/``patientInstruction``, ``participant`` of an Encounter, notes, contained
resources — never lands, whatever it is called. The specs are the contract: they keep exactly the
paths ``models/staging/ehr`` read, and ``tests/unit/ingest/test_allowlist.py`` checks that the
README's tables list exactly these paths.

A spec is a nested literal:

* ``KEEP``: a JSON scalar (string, number, boolean) as landed; an object or array there is dropped.
* ``SCRUB``: a JSON string, through ``journey_scrub`` (free text the contract keeps).
* ``{"member": spec, ...}``: an object of those members only (absent and empty members left out).
* ``Each(spec)``: an array, each element by ``spec`` (positions kept: an element with nothing to
  keep becomes ``null``, so ``location[0]`` is still the first location; an array with nothing kept
  is left out); ``where`` keeps only the
  elements whose member has one of the given values (``extension[url=…]``).
* ``ByMember(member, cases, default)``: an object whose spec depends on one of its members (a
  QuestionnaireResponse item by ``linkId``: only the free-text items keep a ``valueString``).

``keep_sql`` compiles a spec to one DuckDB expression, set-based: each object level's kept paths are
extracted in one ``json_extract`` (one parse), arrays are rebuilt with ``list_transform``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Union


@dataclass(frozen=True)
class Leaf:
    """A JSON scalar kept as landed, or (``scrub``) a string kept through ``journey_scrub``."""

    scrub: bool = False


@dataclass(frozen=True)
class Each:
    """A JSON array: each element by ``spec``; ``where = (member, values)`` keeps only those elements."""

    spec: Spec
    where: tuple[str, tuple[str, ...]] | None = None


@dataclass(frozen=True)
class ByMember:
    """An object kept by the spec of the first case whose values hold its ``member``, else ``default``."""

    member: str
    cases: tuple[tuple[tuple[str, ...], Spec], ...]
    default: Spec


Spec = Union[Leaf, Mapping[str, "Spec"], Each, ByMember]  # noqa: UP007 (a forward reference)

KEEP = Leaf()
SCRUB = Leaf(scrub=True)

# FHIR datatypes, as far as journey reads them.
CODING: Spec = {"system": KEEP, "code": KEEP}
CONCEPT: Spec = {"coding": Each(CODING)}
#: A Reference: its ``reference`` (Patient ids keyed, conditional person references keyed) and an
#: ``identifier`` naming the target (its value keyed at load); never its ``display`` or ``type``.
REFERENCE: dict[str, Spec] = {"reference": KEEP, "identifier": {"system": KEEP, "value": KEEP}}
PERIOD: Spec = {"start": KEEP, "end": KEEP}
_RESOURCE: dict[str, Spec] = {"resourceType": KEEP, "id": KEEP, "meta": {"lastUpdated": KEEP}}

BOOKING_CHANNEL_URL = "https://journey.example/fhir/StructureDefinition/booking-channel"
#: QuestionnaireResponse items whose answer is free text: their ``valueString`` is kept, scrubbed. A
#: ``valueString`` under any other linkId, and any nested ``item[].item[]`` (a group), is dropped.
FREE_TEXT_LINK_IDS: tuple[str, ...] = ("comment",)

_ANSWER: dict[str, Spec] = {"valueInteger": KEEP, "valueCoding": CODING}
_ITEM: Spec = {"linkId": KEEP, "answer": Each(_ANSWER)}
_FREE_TEXT_ITEM: Spec = {"linkId": KEEP, "answer": Each({**_ANSWER, "valueString": SCRUB})}

#: Per resource type, everything raw keeps (Patient: before the keyed id and ``_journey`` are added;
#: Location: before ``_journey.identifierKeys``).
KEEP_SPECS: dict[str, Spec] = {
    "Patient": {"resourceType": KEEP, "meta": {"lastUpdated": KEEP}, "gender": KEEP},
    "Encounter": {
        **_RESOURCE,
        "status": KEEP,
        "class": CODING,
        "subject": REFERENCE,
        "serviceType": CONCEPT,
        "type": Each(CONCEPT),
        "serviceProvider": REFERENCE,
        "period": PERIOD,
        "statusHistory": Each({"status": KEEP, "period": PERIOD}),
        "location": Each({"location": {**REFERENCE, "display": SCRUB}, "status": KEEP, "period": PERIOD}),
        "appointment": Each(REFERENCE),
        "hospitalization": {"dischargeDisposition": CONCEPT},
    },
    "Appointment": {
        **_RESOURCE,
        "status": KEEP,
        "created": KEEP,
        "start": KEEP,
        "end": KEEP,
        "serviceType": Each(CONCEPT),
        "participant": Each({"actor": REFERENCE}),
        "slot": Each(REFERENCE),
        "cancelationReason": CONCEPT,
        "extension": Each({"url": KEEP, "valueCode": KEEP}, where=("url", (BOOKING_CHANNEL_URL,))),
    },
    "Slot": {
        **_RESOURCE,
        "status": KEEP,
        "start": KEEP,
        "end": KEEP,
        "serviceType": Each(CONCEPT),
        "schedule": REFERENCE,
    },
    "QuestionnaireResponse": {
        **_RESOURCE,
        "status": KEEP,
        "questionnaire": KEEP,
        "encounter": REFERENCE,
        "subject": REFERENCE,
        "authored": KEEP,
        "item": Each(ByMember("linkId", ((FREE_TEXT_LINK_IDS, _FREE_TEXT_ITEM),), _ITEM)),
    },
    "Location": {
        **_RESOURCE,
        "name": SCRUB,
        "identifier": Each({"system": KEEP, "value": KEEP}),
        "type": Each(CONCEPT),
        "physicalType": CONCEPT,
        "managingOrganization": REFERENCE,
    },
}


# --------------------------------------------------------------------------------------------------
# compile
# --------------------------------------------------------------------------------------------------
_SCALARS = "('VARCHAR', 'BIGINT', 'UBIGINT', 'DOUBLE', 'BOOLEAN')"
_EMPTY_ARRAY = r"^\[(?:null,)*null\]$"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _member_path(path: str, member: str) -> str:
    return f'{path}."{member}"'


def keep_sql(spec: Spec, source: str) -> str:
    """A DuckDB expression: the JSON that ``spec`` keeps of the JSON (text) ``source``, NULL if nothing.
    ``source`` is evaluated once: every path of the resource down to its arrays is extracted in one
    ``json_extract`` (bound to a lambda variable); an array's (small) elements are read directly."""
    paths: list[str] = []
    body = _node(spec, "$", _Frame(paths, "_f"), 0)
    extract = f"json_extract({source}, [{', '.join(_literal(path) for path in paths)}])"
    exact = f"list_transform([{extract}], lambda _f: {body})[1]"
    structure = _structure(spec)
    if structure is None:
        return exact
    # Fast path (a spec without SCRUB, ByMember or where, e.g. Slot: most of what lands): DuckDB's
    # json_transform keeps exactly the structure's members in one native pass, every scalar as text.
    # It would also keep an object or array found where a scalar belongs, as its JSON text: such a
    # line (its result holds a string opening with { or [) takes the exact path instead.
    fast = f"json_merge_patch('{{}}', to_json(json_transform({source}, {_literal(json.dumps(structure))})))"
    return (f"list_transform([{fast}], lambda _t: case when regexp_matches(_t, {_literal(_NESTED_TEXT)}) "
            f"then {exact} else nullif(_t, '{{}}') end)[1]")


_NESTED_TEXT = r'":"[\[{]'


def _structure(spec: Spec) -> object | None:
    """The ``json_transform`` structure of a spec of plain members and arrays (None otherwise)."""
    if isinstance(spec, Leaf):
        return None if spec.scrub else "VARCHAR"
    if isinstance(spec, ByMember) or (isinstance(spec, Each) and spec.where is not None):
        return None
    if isinstance(spec, Each):
        element = _structure(spec.spec)
        return None if element is None else [element]
    members = {member: _structure(child) for member, child in spec.items()}
    return None if any(value is None for value in members.values()) else members


@dataclass
class _Frame:
    """Where a node's values come from: the bound list of the resource's paths (``paths`` collects
    them), or (``paths`` None) an array element ``var`` read path by path."""

    paths: list[str] | None
    var: str

    def value(self, path: str) -> str:
        if self.paths is None:
            return f"json_extract({self.var}, {_literal(path)})"
        self.paths.append(path)
        return f"{self.var}[{len(self.paths)}]"

    def kind(self, path: str, value: str) -> str:
        return f"json_type({value})" if self.paths is not None else f"json_type({self.var}, {_literal(path)})"


def _node(spec: Spec, path: str, frame: _Frame, depth: int) -> str:
    if isinstance(spec, Leaf):
        value = frame.value(path)
        kind = frame.kind(path, value)
        if spec.scrub:
            return (f"(case when {kind} = 'VARCHAR' "
                    f"then to_json(journey_scrub(json_extract_string({value}, '$'))) end)")
        return f"(case when {kind} in {_SCALARS} then {value} end)"
    if isinstance(spec, Each):
        element = f"_e{depth}"
        elements = f"json_extract({frame.value(path)}, '$[*]')"
        if spec.where is not None:
            member, values = spec.where
            allowed = ", ".join(_literal(value) for value in values)
            elements = (f"list_filter({elements}, lambda {element}: "
                        f"json_extract_string({element}, {_literal(_member_path('$', member))}) in ({allowed}))")
        kept = _node(spec.spec, "$", _Frame(None, element), depth + 1)
        each = f"list_transform({elements}, lambda {element}: {kept})"
        # an array with nothing kept (``[]``, ``[null, null]``) is left out
        return f"nullif(regexp_replace(to_json({each}), {_literal(_EMPTY_ARRAY)}, '[]'), '[]')::json"
    if isinstance(spec, ByMember):
        member = frame.value(_member_path(path, spec.member))
        whens = " ".join(
            f"when json_extract_string({member}, '$') in ({', '.join(_literal(value) for value in values)}) "
            f"then {_node(case, path, frame, depth)}"
            for values, case in spec.cases
        )
        return f"(case {whens} else {_node(spec.default, path, frame, depth)} end)"
    members = ", ".join(
        f"{_literal(member)}, {_node(child, _member_path(path, member), frame, depth)}"
        for member, child in spec.items()
    )
    return f"nullif(json_merge_patch('{{}}', json_object({members})), '{{}}')"


def kept_paths(spec: Spec, prefix: str = "") -> list[str]:
    """The dotted FHIR paths ``spec`` keeps (``location[].period.start``; ``extension[url=…]``,
    ``item[linkId=comment]``), for the contract's tables."""
    if isinstance(spec, Leaf):
        return [prefix]
    if isinstance(spec, Each):
        where = f"[{spec.where[0]}={'|'.join(spec.where[1])}]" if spec.where else "[]"
        return kept_paths(spec.spec, prefix + where)
    if isinstance(spec, ByMember):  # inside an Each: a path only some cases keep names them
        default = kept_paths(spec.default, prefix)
        only = [path for values, case in spec.cases
                for path in kept_paths(case, prefix.removesuffix("[]") + f"[{spec.member}={'|'.join(values)}]")
                if path.replace(f"[{spec.member}={'|'.join(values)}]", "[]", 1) not in default]
        return list(dict.fromkeys([*default, *only]))
    return [path for member, child in spec.items()
            for path in kept_paths(child, f"{prefix}.{member}" if prefix else member)]
