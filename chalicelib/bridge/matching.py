"""Which patient a Bridge capture belongs to, in the contract's order, never on a guess:

1. ``explicit``: the patient chosen at the Bridge (``patient_id``, 422 if it is not one of the
   clinic's), or a ``patient_number`` typed there (a patient id or a national id, DNI/NIE);
2. ``appointment``: the one appointment ``in_progress`` right now in the device's cabinet;
3. ``dicom``: the header's PatientID (a patient id or national id), or its PatientName plus
   PatientBirthDate (every family-name word and a given-name word must be the patient's, and
   the birth date equal);
4. ``filename``: the sensor software's naming conventions (docs/adr/1001-bridge-devices.md):
   a patient id (26-character ULID) or a DNI/NIE anywhere in the name, or the patient's first
   surname, first given name and birth date (``PEREZ_LUCIA_19850312_01.jpg``,
   ``Lucia Perez 12-03-1985.dcm``).

A step that finds exactly one patient decides; one that finds several makes the capture
``ambiguous`` unless a later step finds exactly one. Otherwise the capture goes to the inbox
(``no_match``, or ``ambiguous`` with the candidates). Every lookup is a point read or a Query
on the clinic's own partition (patient index items, the cabinet's appointments).
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from chalicelib.bridge import schemas
from chalicelib.core import validators
from chalicelib.core.db import Item, clinic_pk
from chalicelib.core.errors import Unprocessable
from chalicelib.core.i18n import tr
from chalicelib.patients import search
from chalicelib.patients import service as patients
from chalicelib.patients.models import Patient, PatientIndex

ULID_RE = re.compile(r"(?<![0-9A-Za-z])([0-9A-HJKMNP-TV-Z]{26})(?![0-9A-Za-z])", re.I)
NATIONAL_ID_RE = re.compile(
    r"(?<![0-9A-Za-z])([0-9]{8}[A-Za-z]|[XYZxyz][0-9]{7}[A-Za-z])(?![0-9A-Za-z])"
)
YMD_RE = re.compile(
    r"(?<![0-9])((?:19|20)[0-9]{2})[-_.]?(0[1-9]|1[0-2])[-_.]?(0[1-9]|[12][0-9]|3[01])(?![0-9])"
)
DMY_RE = re.compile(
    r"(?<![0-9])(0[1-9]|[12][0-9]|3[01])[-_.](0[1-9]|1[0-2])[-_.]((?:19|20)[0-9]{2})(?![0-9])"
)
STOP_WORDS = frozenset(
    {
        "img", "image", "imagen", "xray", "rx", "rad", "radiografia", "pano", "panoramica",
        "panoramic", "periapical", "peri", "bw", "bitewing", "aleta", "cbct", "ceph", "ceftalo",
        "dcm", "dicom", "jpg", "jpeg", "png", "tif", "tiff", "zip", "foto", "photo", "scan",
        "study", "estudio", "series", "serie", "raw", "export", "file", "archivo", "sensor",
    }
)  # fmt: skip
MAX_NAME_QUERIES = 3
MAX_CANDIDATES = 10
MAX_APPOINTMENT_MIN = 240 + 120
"""How far back an appointment still in progress may have started (the longest appointment
plus a generous overrun)."""


@dataclass
class Match:
    patient_id: str | None = None
    by: str | None = None
    reason: str | None = None
    candidates: list[str] = field(default_factory=list)

    def stored(self) -> dict:
        return {"by": self.by, "reason": self.reason, "candidates": self.candidates}


# --- lookups -------------------------------------------------------------------------------


def _ids_under(clinic_id: str, prefix: str, limit: int = 20) -> list[str]:
    return list(
        dict.fromkeys(
            i.patient_id
            for i in PatientIndex.query(
                clinic_pk(clinic_id), PatientIndex.SK.startswith(prefix), limit=limit
            )
        )
    )


def _exists(clinic_id: str, patient_id: str) -> bool:
    try:
        Patient.get(*Patient.key(clinic_id, patient_id))
    except Patient.DoesNotExist:
        return False
    return True


def by_national_id(clinic_id: str, value: str) -> list[str]:
    nid = search.normalise_national_id(value)
    if not (validators.valid_dni(nid) or validators.valid_nie(nid)):
        return []
    return _ids_under(clinic_id, f"PIDX#I#{search.blind(clinic_id, 'national_id', nid)}#")


def by_number(clinic_id: str, value: str | None) -> list[str]:
    """A patient number: a patient id (ULID) of the clinic, or a national id (DNI/NIE)."""
    v = (value or "").strip()
    if not v:
        return []
    if ULID_RE.fullmatch(v):
        return [v.upper()] if _exists(clinic_id, v.upper()) else []
    return by_national_id(clinic_id, v)


def _words(text: str) -> list[str]:
    return [t for t in search.tokens(text) if len(t) >= 2 and not t.isdigit()]


def by_name_and_birth(
    clinic_id: str, words: list[str], births: list[date], given: list[str] | None = None
) -> list[str]:
    """Patients born on one of ``births`` whose first surname and first given name are among
    ``words`` (with ``given``: every family word is theirs and a given word too)."""
    words = [w for w in words if w not in STOP_WORDS]
    if not words or not births:
        return []
    pivots = sorted(set(words), key=len, reverse=True)[:MAX_NAME_QUERIES]
    ids: list[str] = []
    for w in pivots:
        ids += _ids_under(clinic_id, f"PIDX#N#{w}#", limit=50)
    found = patients.load_many(clinic_id, ids)
    wanted_births = {b.isoformat() for b in births}
    have = set(words)
    out = []
    for pid, p in found.items():
        if p.date_of_birth not in wanted_births:
            continue
        surnames = search.tokens(p.last_name, p.second_last_name)
        firsts = search.tokens(p.first_name)
        if given is not None:
            family = [w for w in words if w not in given]
            ok = (
                bool(family)
                and all(w in surnames for w in family)
                and bool(set(given) & set(firsts))
            )
        else:
            ok = bool(surnames and firsts) and surnames[0] in have and firsts[0] in have
        if ok:
            out.append(pid)
    return out


def in_progress(clinic_id: str, cabinet_id: str, at: datetime) -> list[str]:
    """Patients of the appointments ``in_progress`` in the cabinet now (one Query)."""
    from chalicelib.agenda.models import Appointment, cabinet_index  # noqa: PLC0415
    from chalicelib.agenda.service import utc_iso  # noqa: PLC0415

    lo = utc_iso(at - timedelta(minutes=MAX_APPOINTMENT_MIN))
    hi = utc_iso(at + timedelta(minutes=5)) + "#~"
    found = Item.gsi1.query(
        cabinet_index(clinic_id, cabinet_id),
        Item.GSI1SK.between(lo, hi),
        filter_condition=Appointment.status == "in_progress",
    )
    return list(dict.fromkeys(a.patient_id for a in found if isinstance(a, Appointment)))


# --- hints ---------------------------------------------------------------------------------


def _dates_in(text: str) -> list[date]:
    out = []
    for y, m, d in YMD_RE.findall(text):
        with contextlib.suppress(ValueError):
            out.append(date(int(y), int(m), int(d)))
    for d, m, y in DMY_RE.findall(text):
        with contextlib.suppress(ValueError):
            out.append(date(int(y), int(m), int(d)))
    return out


def from_dicom(clinic_id: str, dicom: schemas.DicomHints) -> list[list[str]]:
    """Results of the DICOM hints: by PatientID, by name and birth date."""
    results = []
    if dicom.patient_id:
        results.append(by_number(clinic_id, dicom.patient_id))
    if dicom.patient_name and dicom.birth_date:
        family, _, given = dicom.patient_name.partition("^")
        given_words = _words(given.replace("^", " "))
        results.append(
            by_name_and_birth(
                clinic_id,
                _words(family) + given_words,
                [date.fromisoformat(dicom.birth_date)],
                given=given_words or None,
            )
        )
    return results


def from_filename(clinic_id: str, filename: str) -> list[list[str]]:
    stem = filename.rsplit(".", 1)[0]
    results = []
    for u in ULID_RE.findall(stem):
        results.append([u.upper()] if _exists(clinic_id, u.upper()) else [])
    for nid in NATIONAL_ID_RE.findall(stem):
        results.append(by_national_id(clinic_id, nid))
    dates = _dates_in(stem)
    if dates:
        words = _words(re.sub(r"[0-9]+", " ", stem))
        results.append(by_name_and_birth(clinic_id, words, dates))
    return results


def _decide(results: list[list[str]]) -> tuple[str | None, list[str]]:
    """One step's verdict: the patient all its non-empty results agree on, else candidates."""
    found = [set(r) for r in results if r]
    if not found:
        return None, []
    common = set.intersection(*found)
    if len(common) == 1:
        return next(iter(common)), []
    return None, sorted(set().union(*found))


# --- the order -----------------------------------------------------------------------------


def find(clinic_id: str, cabinet_id: str | None, data: schemas.CaptureIn, at: datetime) -> Match:
    if data.patient_id:
        if not _exists(clinic_id, data.patient_id):
            raise Unprocessable(
                tr("Some fields are not valid.", "Algunos campos no son válidos."),
                errors=[
                    {
                        "field": "patient_id",
                        "message": tr(
                            "is not a patient of this clinic", "no es un paciente de esta clínica"
                        ),
                    }
                ],
            )
        return Match(data.patient_id, "explicit")
    steps: list[tuple[str, list[list[str]]]] = []
    if data.patient_number:
        steps.append(("explicit", [by_number(clinic_id, data.patient_number)]))
    if cabinet_id:
        steps.append(("appointment", [in_progress(clinic_id, cabinet_id, at)]))
    if data.dicom:
        steps.append(("dicom", from_dicom(clinic_id, data.dicom)))
    steps.append(("filename", from_filename(clinic_id, data.filename)))
    ambiguous: list[str] = []
    for by, results in steps:
        pid, candidates = _decide(results)
        if pid:
            return Match(pid, by)
        ambiguous += [c for c in candidates if c not in ambiguous]
    if ambiguous:
        return Match(None, None, "ambiguous", ambiguous[:MAX_CANDIDATES])
    return Match(None, None, "no_match")
