"""A patient's DICOM studies: the images that share a StudyInstanceUID shown as one study with
its series (SeriesInstanceUID), instead of dozens of unrelated images.

Built from one Query on the patient's images (GSI2, ``study_uid`` present), never a scan. The
study and series fields come from the Bridge's DICOM hints when it sends them, else from the
file's header when the image worker reads it.
"""

from __future__ import annotations

from datetime import date

from chalicelib.core.api import Principal
from chalicelib.core.db import Item
from chalicelib.core.ids import now
from chalicelib.imaging import schemas
from chalicelib.imaging.models import Image
from chalicelib.imaging.service import listed, patient_of


def _int_or_max(v: object) -> int:
    return int(v) if isinstance(v, int | float) else 1 << 31


def list_studies(principal: Principal, patient_id: str) -> list[schemas.StudyOut]:
    """The patient's studies, newest first; each with its series and their image ids."""
    cid = principal.clinic_id
    patient_of(principal, patient_id)
    cond = Image.study_uid.exists() & listed(now())
    images = [
        i
        for i in Item.gsi2.query(
            Image.by_date_pk(cid, patient_id), filter_condition=cond, scan_index_forward=False
        )
        if isinstance(i, Image)
    ]
    studies: dict[str, list[Image]] = {}
    for img in images:
        studies.setdefault(str(img.study_uid), []).append(img)
    out = []
    for study_uid, imgs in studies.items():
        series: dict[str, list[Image]] = {}
        for img in imgs:
            series.setdefault(img.series_uid or study_uid, []).append(img)
        series_out = []
        for series_uid, members in series.items():
            members.sort(key=lambda i: (_int_or_max(i.instance_number), i.image_id))
            first = members[0]
            series_out.append(
                schemas.SeriesOut(
                    series_uid=series_uid,
                    series_number=int(first.series_number)
                    if first.series_number is not None
                    else None,
                    modality=(first.metadata or {}).get("modality"),
                    image_ids=[i.image_id for i in members],
                )
            )
        series_out.sort(key=lambda s: (_int_or_max(s.series_number), s.series_uid))
        dates = sorted(i.acquired_on for i in imgs if i.acquired_on)
        out.append(
            schemas.StudyOut(
                study_uid=study_uid,
                study_date=date.fromisoformat(dates[0]) if dates else None,
                modalities=sorted({s.modality for s in series_out if s.modality}),
                image_count=len(imgs),
                series=series_out,
            )
        )
    out.sort(key=lambda s: (s.study_date or date.min, s.study_uid), reverse=True)
    return out
