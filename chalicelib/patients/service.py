"""Patient rules: create (with duplicate detection), read, update, archive, search and the
medical history. Services take the acting principal; keys come from ``principal.clinic_id``.

Sealed at rest: national id, WhatsApp number, legal guardian, insurer and the medical history
(envelope encryption with
the clinic id as associated data). Search goes through index items in the clinic partition:
name tokens by prefix, and keyed hashes for phone, email, national id and name + birth date.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib.core import audit, events
from chalicelib.core.api import Page, Principal
from chalicelib.core.audit import AuditEntry
from chalicelib.core.crypto import open_sealed, seal
from chalicelib.core.db import Item, clinic_pk, decode_cursor, encode_cursor, transaction
from chalicelib.core.errors import Conflict, NotFound, Unprocessable
from chalicelib.core.i18n import tr
from chalicelib.core.ids import new_id, now
from chalicelib.core.observability import logger
from chalicelib.patients import schemas, search
from chalicelib.patients.alerts import compute_alerts
from chalicelib.patients.models import Patient, PatientIndex

# Fields of the patient as the API sees them (national_id / whatsapp are sealed at rest).
FIELDS = (
    "first_name",
    "last_name",
    "second_last_name",
    "date_of_birth",
    "gender",
    "national_id",
    "profession",
    "address",
    "email",
    "phone",
    "whatsapp",
    "preferred_channel",
    "language",
    "emergency_contact",
    "legal_guardian",
    "insurer",
)
IDX = "PIDX#"


# --- loading and shaping -------------------------------------------------------------------


def load(clinic_id: str, patient_id: str) -> Patient:
    """The patient of this clinic, or 404 (also for another clinic's id)."""
    try:
        return Patient.get(*Patient.key(clinic_id, patient_id))
    except DoesNotExist as exc:
        raise NotFound(
            tr(
                "No patient with that id in this clinic.",
                "No hay ningún paciente con ese id en esta clínica.",
            ),
            code="PATIENT_NOT_FOUND",
        ) from exc


def load_many(clinic_id: str, patient_ids: Iterable[str]) -> dict[str, Patient]:
    ids = list(dict.fromkeys(patient_ids))
    if not ids:
        return {}
    return {
        p.patient_id: p
        for p in Patient.batch_get([Patient.key(clinic_id, pid) for pid in ids])
        if isinstance(p, Patient)
    }


def full_name(p: Patient) -> str:
    return " ".join(n for n in (p.first_name, p.last_name, p.second_last_name) if n)


BLOCKED_NAME = "Paciente bloqueado (RGPD)"
"""What lists, the agenda and the reports show instead of a blocked patient's name (ADR 1405)."""


def display_name(p: Patient) -> str:
    """How the agenda shows a patient: 'Nombre Apellido' (never a blocked patient's name)."""
    if p.blocked:
        return BLOCKED_NAME
    return f"{p.first_name} {p.last_name}"


def blocked_error() -> Conflict:
    return Conflict(
        tr(
            "This patient is blocked by a GDPR erasure request: their record is kept only as "
            "the law requires and cannot be booked, edited or messaged.",
            "Este paciente está bloqueado por una solicitud de supresión (RGPD): su ficha se "
            "conserva solo por obligación legal y no admite citas, cambios ni mensajes.",
        ),
        code="PATIENT_BLOCKED",
    )


def load_active(clinic_id: str, patient_id: str) -> Patient:
    """The patient, or 404; 409 ``PATIENT_BLOCKED`` when an erasure request blocked them."""
    p = load(clinic_id, patient_id)
    if p.blocked:
        raise blocked_error()
    return p


def _open(clinic_id: str, sealed: str | None) -> str | None:
    return open_sealed(clinic_id, sealed) if sealed else None


def medical_of(clinic_id: str, p: Patient) -> schemas.MedicalHistory | None:
    raw = _open(clinic_id, p.medical_sealed)
    return schemas.MedicalHistory.model_validate_json(raw) if raw else None


def alerts_of(clinic_id: str, p: Patient) -> list[schemas.Alert]:
    return compute_alerts(medical_of(clinic_id, p))


def _values(clinic_id: str, p: Patient) -> dict[str, Any]:
    """The patient's fields as JSON-able values, sealed ones opened."""
    nid = _open(clinic_id, p.national_id_sealed)
    return {
        "first_name": p.first_name,
        "last_name": p.last_name,
        "second_last_name": p.second_last_name,
        "date_of_birth": p.date_of_birth,
        "gender": p.gender,
        "national_id": {"type": p.national_id_type, "number": nid} if nid else None,
        "profession": p.profession,
        "address": p.address,
        "email": p.email,
        "phone": p.phone,
        "whatsapp": _open(clinic_id, p.whatsapp_sealed),
        "preferred_channel": p.preferred_channel,
        "language": p.language,
        "emergency_contact": p.emergency_contact,
        "legal_guardian": _guardian_of(clinic_id, p),
        "insurer": _sealed_json(clinic_id, p.insurer_sealed),
    }


def _sealed_json(clinic_id: str, sealed: str | None) -> dict[str, Any] | None:
    raw = _open(clinic_id, sealed)
    return json.loads(raw) if raw else None


def _guardian_of(clinic_id: str, p: Patient) -> dict[str, Any] | None:
    raw = _open(clinic_id, p.legal_guardian_sealed)
    return json.loads(raw) if raw else p.legal_guardian  # clear only on items written before


def to_out(clinic_id: str, p: Patient) -> schemas.PatientOut:
    v = _values(clinic_id, p)
    dob = date.fromisoformat(p.date_of_birth)
    age = schemas.age_on(dob, now().date())
    return schemas.PatientOut(
        patient_id=p.patient_id,
        full_name=full_name(p),
        age=age,
        is_minor=age < schemas.ADULT_AGE,
        alerts=alerts_of(clinic_id, p),
        has_medical_history=bool(p.medical_sealed),
        archived=bool(p.archived),
        archived_at=p.archived_at,
        blocked=bool(p.blocked),
        blocked_at=p.blocked_at,
        created_at=p.created_at,
        updated_at=p.updated_at,
        **v,
    )


def to_summary(clinic_id: str, p: Patient) -> schemas.PatientSummary:
    dob = date.fromisoformat(p.date_of_birth)
    return schemas.PatientSummary(
        patient_id=p.patient_id,
        full_name=full_name(p),
        first_name=p.first_name,
        last_name=p.last_name,
        second_last_name=p.second_last_name,
        date_of_birth=dob,
        age=schemas.age_on(dob, now().date()),
        phone=p.phone,
        email=p.email,
        alerts=alerts_of(clinic_id, p),
        archived=bool(p.archived),
    )


def get(principal: Principal, patient_id: str) -> schemas.PatientOut:
    """The patient; showing an identity document (theirs or their guardian's) is audited."""
    out = to_out(principal.clinic_id, load(principal.clinic_id, patient_id))
    if out.national_id or (out.legal_guardian and out.legal_guardian.national_id):
        _audit_read(principal, "patient.national_id_viewed", patient_id)
    return out


def _audit_read(principal: Principal, action: str, patient_id: str) -> None:
    """Access to clinical data and identity documents is traceable (who, when, from where),
    as Spanish health-record law expects; the entry holds no value."""
    audit.record(principal.clinic_id, principal.actor, action, "patient", patient_id)


# --- index items ---------------------------------------------------------------------------


def _sort_key(v: dict[str, Any], patient_id: str) -> str:
    names = " ".join(
        search.fold(v.get(k) or "") for k in ("last_name", "second_last_name", "first_name")
    )
    return f"{names.strip()[:120]}#{patient_id}"


def _dup_hash(clinic_id: str, v: dict[str, Any]) -> str:
    name = " ".join(search.tokens(v["first_name"], v["last_name"], v.get("second_last_name")))
    return search.blind(clinic_id, "name_dob", f"{name}|{v['date_of_birth']}")


def index_keys(clinic_id: str, patient_id: str, v: dict[str, Any]) -> set[str]:
    """Sort keys of every index item the patient should have, from its plain values."""
    keys = {
        f"{IDX}N#{t}#{patient_id}"
        for t in search.tokens(v["first_name"], v["last_name"], v.get("second_last_name"))
    }
    keys.add(f"{IDX}D#{_dup_hash(clinic_id, v)}#{patient_id}")
    if v.get("phone"):
        keys.add(f"{IDX}P#{search.blind(clinic_id, 'phone', v['phone'])}#{patient_id}")
    if v.get("whatsapp") and v.get("whatsapp") != v.get("phone"):
        keys.add(f"{IDX}P#{search.blind(clinic_id, 'phone', v['whatsapp'])}#{patient_id}")
    if v.get("email"):
        email = search.normalise_email(v["email"])
        keys.add(f"{IDX}E#{search.blind(clinic_id, 'email', email)}#{patient_id}")
    if v.get("national_id"):
        nid = search.normalise_national_id(v["national_id"]["number"])
        keys.add(f"{IDX}I#{search.blind(clinic_id, 'national_id', nid)}#{patient_id}")
    return keys


def _ids_under(clinic_id: str, prefix: str) -> list[str]:
    return [
        i.patient_id
        for i in PatientIndex.query(clinic_pk(clinic_id), PatientIndex.SK.startswith(prefix))
    ]


def find_duplicate(clinic_id: str, v: dict[str, Any], exclude: str | None = None) -> str | None:
    candidates: list[str] = []
    if v.get("national_id"):
        nid = search.normalise_national_id(v["national_id"]["number"])
        candidates += _ids_under(
            clinic_id, f"{IDX}I#{search.blind(clinic_id, 'national_id', nid)}#"
        )
    candidates += _ids_under(clinic_id, f"{IDX}D#{_dup_hash(clinic_id, v)}#")
    for pid in candidates:
        if pid != exclude:
            return pid
    return None


# --- writes --------------------------------------------------------------------------------


def _apply(clinic_id: str, p: Patient, v: dict[str, Any]) -> None:
    """Set the item's attributes from plain values (sealing what must be sealed)."""
    p.first_name = v["first_name"]
    p.last_name = v["last_name"]
    p.second_last_name = v.get("second_last_name")
    p.date_of_birth = str(v["date_of_birth"])
    p.gender = v.get("gender") or "unknown"
    nid = v.get("national_id")
    p.national_id_type = nid["type"] if nid else None
    p.national_id_sealed = seal(clinic_id, nid["number"]) if nid else None
    p.profession = v.get("profession")
    p.address = v.get("address")
    p.email = search.normalise_email(v["email"]) if v.get("email") else None
    p.phone = v.get("phone")
    p.whatsapp_sealed = seal(clinic_id, v["whatsapp"]) if v.get("whatsapp") else None
    p.preferred_channel = v.get("preferred_channel")
    p.language = v.get("language") or "es"
    p.emergency_contact = v.get("emergency_contact")
    guardian = v.get("legal_guardian")
    p.legal_guardian_sealed = seal(clinic_id, json.dumps(guardian)) if guardian else None
    p.legal_guardian = None  # an item written before sealing loses its clear copy here
    insurer = v.get("insurer")
    p.insurer_sealed = seal(clinic_id, json.dumps(insurer)) if insurer else None
    p.GSI1PK = Patient.list_pk(clinic_id)
    p.GSI1SK = _sort_key(v, p.patient_id)


def _check_guardian(v: dict[str, Any]) -> None:
    dob = date.fromisoformat(str(v["date_of_birth"]))
    if schemas.age_on(dob, now().date()) < schemas.ADULT_AGE and not v.get("legal_guardian"):
        raise Unprocessable(
            tr(
                "A patient under 18 needs a legal guardian.",
                "Un paciente menor de 18 años necesita un tutor legal.",
            ),
            errors=[
                {
                    "field": "legal_guardian",
                    "message": tr(
                        "required for a patient under 18", "obligatorio para menores de 18 años"
                    ),
                }
            ],
        )


def _duplicate_conflict(existing: str) -> Conflict:
    return Conflict(
        tr(
            "A patient with the same national id, or the same name and date of birth, already "
            "exists. Open it, or send confirm_duplicate: true to create another.",
            "Ya existe un paciente con el mismo documento, o con el mismo nombre y fecha de "
            "nacimiento. Ábrelo, o envía confirm_duplicate: true para crear otro.",
        ),
        code="PATIENT_DUPLICATE",
        data={"existing_patient_id": existing},
    )


def create(principal: Principal, data: schemas.PatientIn) -> schemas.PatientOut:
    cid = principal.clinic_id
    v = data.model_dump(mode="json", exclude={"confirm_duplicate"})
    if not data.confirm_duplicate:
        existing = find_duplicate(cid, v)
        if existing:
            raise _duplicate_conflict(existing)
    pid, at = new_id(), now()
    p = Patient(*Patient.key(cid, pid), patient_id=pid, created_at=at, updated_at=at, version=1)
    _apply(cid, p, v)
    with transaction() as tx:
        tx.save(p, condition=Patient.SK.does_not_exist())
        for sk in index_keys(cid, pid, v):
            tx.save(PatientIndex(clinic_pk(cid), sk, patient_id=pid))
        entry = audit.entry(cid, principal.actor, "patient.created", "patient", pid, after=v)
        tx.save(entry, condition=AuditEntry.SK.does_not_exist())
    events.publish("patient.created", cid, principal.actor, patient_id=pid)
    logger.info("patient created", extra={"patient_id": pid})
    return to_out(cid, p)


def update(
    principal: Principal, patient_id: str, data: schemas.PatientUpdate
) -> schemas.PatientOut:
    cid = principal.clinic_id
    p = load_active(cid, patient_id)
    before = _values(cid, p)
    sent = data.model_dump(mode="json", include=data.model_fields_set)
    after = {**before, **sent}
    changes = sorted(k for k in FIELDS if before.get(k) != after.get(k))
    if not changes:
        return to_out(cid, p)
    _check_guardian(after)
    old_keys = index_keys(cid, patient_id, before)
    new_keys = index_keys(cid, patient_id, after)
    version = p.version or 1
    _apply(cid, p, after)
    p.updated_at = now()
    p.version = version + 1
    try:
        with transaction() as tx:
            tx.save(p, condition=Patient.version == version)
            for sk in old_keys - new_keys:
                tx.delete(PatientIndex(clinic_pk(cid), sk))
            for sk in new_keys - old_keys:
                tx.save(PatientIndex(clinic_pk(cid), sk, patient_id=patient_id))
            entry = audit.entry(
                cid,
                principal.actor,
                "patient.updated",
                "patient",
                patient_id,
                before={k: before.get(k) for k in changes},
                after={k: after.get(k) for k in changes},
            )
            tx.save(entry, condition=AuditEntry.SK.does_not_exist())
    except TransactWriteError as exc:
        raise Conflict(
            tr(
                "The patient changed while you were editing; reload and try again.",
                "El paciente ha cambiado mientras lo editabas; recarga e inténtalo de nuevo.",
            ),
            code="PATIENT_CHANGED",
        ) from exc
    events.publish("patient.updated", cid, principal.actor, patient_id=patient_id, changes=changes)
    return to_out(cid, p)


def set_archived(principal: Principal, patient_id: str, archived: bool) -> schemas.PatientOut:
    cid = principal.clinic_id
    p = load(cid, patient_id)
    if bool(p.archived) == archived:
        return to_out(cid, p)
    at = now()
    p.update(
        actions=[
            Patient.archived.set(archived),
            Patient.archived_at.set(at) if archived else Patient.archived_at.remove(),
            Patient.updated_at.set(at),
        ],
        condition=Patient.SK.exists(),
    )
    action = "patient.archived" if archived else "patient.unarchived"
    audit.record(
        cid,
        principal.actor,
        action,
        "patient",
        patient_id,
        before={"archived": not archived},
        after={"archived": archived},
    )
    events.publish(action, cid, principal.actor, patient_id=patient_id)
    return to_out(cid, p)


# --- medical history -----------------------------------------------------------------------


def get_medical(principal: Principal, patient_id: str) -> schemas.MedicalOut:
    cid = principal.clinic_id
    p = load(cid, patient_id)
    history = medical_of(cid, p) or schemas.MedicalHistory()
    _audit_read(principal, "patient.medical_viewed", patient_id)
    return schemas.MedicalOut(
        patient_id=patient_id,
        history=history,
        alerts=compute_alerts(history),
        updated_at=p.medical_updated_at,
        updated_by=p.medical_updated_by,
    )


def put_medical(
    principal: Principal, patient_id: str, history: schemas.MedicalHistory
) -> schemas.MedicalOut:
    cid = principal.clinic_id
    p = load(cid, patient_id)
    before = medical_of(cid, p)
    at = now()
    sealed = seal(cid, history.model_dump_json())
    with transaction() as tx:
        tx.update(
            p,
            actions=[
                Patient.medical_sealed.set(sealed),
                Patient.medical_updated_at.set(at),
                Patient.medical_updated_by.set(principal.user_id),
                Patient.updated_at.set(at),
            ],
            condition=Patient.SK.exists(),
        )
        changed = sorted(
            k
            for k in schemas.MedicalHistory.model_fields
            if (before.model_dump()[k] if before else None) != history.model_dump()[k]
        )
        entry = audit.entry(
            cid,
            principal.actor,
            "patient.medical_updated",
            "patient",
            patient_id,
            # Field names only; the values are masked (the keys are in SENSITIVE_FIELDS).
            before={"medical": json.dumps(changed)} if before else None,
            after={"medical": "updated"},
        )
        tx.save(entry, condition=AuditEntry.SK.does_not_exist())
    events.publish(
        "patient.medical_updated",
        cid,
        principal.actor,
        patient_id=patient_id,
        user_id=principal.user_id,
    )
    return schemas.MedicalOut(
        patient_id=patient_id,
        history=history,
        alerts=compute_alerts(history),
        updated_at=at,
        updated_by=principal.user_id,
    )


# --- search --------------------------------------------------------------------------------


def _ordered(clinic_id: str, ids: list[str]) -> list[Patient]:
    found = load_many(clinic_id, ids)
    return [found[i] for i in dict.fromkeys(ids) if i in found]


def search_patients(principal: Principal, q: schemas.PatientSearch) -> Page:
    cid = principal.clinic_id
    pk = clinic_pk(cid)
    patients: list[Patient]
    cursor: str | None
    if q.q or q.phone or q.email or q.national_id:
        if q.q:
            wanted = search.tokens(q.q)
            if not wanted:
                raise Unprocessable(
                    tr(
                        "Type at least one letter or digit of a name.",
                        "Escribe al menos una letra o cifra del nombre.",
                    ),
                    errors=[
                        {
                            "field": "query.q",
                            "message": tr(
                                "no searchable characters", "no hay caracteres que buscar"
                            ),
                        }
                    ],
                )
            prefix = f"{IDX}N#{max(wanted, key=len)}"
        elif q.phone:
            prefix = f"{IDX}P#{search.blind(cid, 'phone', q.phone)}#"
        elif q.email:
            prefix = f"{IDX}E#{search.blind(cid, 'email', search.normalise_email(q.email))}#"
        else:
            nid = search.normalise_national_id(q.national_id or "")
            prefix = f"{IDX}I#{search.blind(cid, 'national_id', nid)}#"
        result = PatientIndex.query(
            pk,
            PatientIndex.SK.startswith(prefix),
            limit=q.limit,
            last_evaluated_key=decode_cursor(q.cursor, partition=("PK", pk)),
        )
        ids = [i.patient_id for i in result]
        cursor = encode_cursor(result.last_evaluated_key)
        patients = _ordered(cid, ids)
        if q.q:
            wanted = search.tokens(q.q)

            def matches(p: Patient) -> bool:
                have = search.tokens(p.first_name, p.last_name, p.second_last_name)
                return all(any(h.startswith(w) for h in have) for w in wanted)

            patients = sorted(filter(matches, patients), key=lambda p: p.GSI1SK or "")
    else:
        lpk = Patient.list_pk(cid)
        result = Item.gsi1.query(
            lpk,
            limit=q.limit,
            last_evaluated_key=decode_cursor(q.cursor, partition=("GSI1PK", lpk)),
        )
        patients = [p for p in result if isinstance(p, Patient)]
        cursor = encode_cursor(result.last_evaluated_key)
    patients = [p for p in patients if not p.blocked]  # ADR 1405: blocked, never listed
    if not q.include_archived:
        patients = [p for p in patients if not p.archived]
    return Page([to_summary(cid, p) for p in patients], cursor)
