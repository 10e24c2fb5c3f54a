"""Demo images and documents of Clínica Demo, uploaded through the imaging service (upload
slot + S3) so the image worker renders them once ``make run`` pumps its queue.

The first demo patient shows everything the module does: a full intraoral and extraoral
photo series (portraits shot with the camera turned, EXIF orientation 6), two before/after
pairs, a 16-bit panoramic, periapicals of tooth 11 over two years (the compare view), a
JPEG-LS compressed bite-wing and a CBCT volume (DICOM), a consent and a referral. The next
two get a shorter history; the second also has a periapical from another practice whose
DICOM header names someone else, which the worker flags as a patient mismatch.

Builds on the patients seed: with no patients in Clínica Demo yet, it seeds nothing.
"""

from __future__ import annotations

import io
import random
from datetime import date, timedelta
from typing import Any

from chalicelib.core import aws
from chalicelib.core.api import Principal
from chalicelib.core.config import settings
from chalicelib.core.ids import now
from chalicelib.imaging import documents, schemas, service
from chalicelib.imaging.models import ORIGINAL_TAG, document_key, original_key
from chalicelib.patients.models import Patient
from infra.local.seed.context import DemoContext

MAX_PATIENTS = 3


def _demo_patients(clinic_id: str) -> list[Patient]:
    found = Patient.gsi1.query(Patient.list_pk(clinic_id), limit=MAX_PATIENTS)
    return [p for p in found if isinstance(p, Patient)][:MAX_PATIENTS]


# --- generated, realistic-looking files ------------------------------------------------------


def _jpeg(im: Any, *, orientation: int = 1, taken: date | None = None) -> bytes:
    """JPEG with camera EXIF (orientation; the capture date when ``taken``)."""
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "EOS R6 + 100mm Macro"
    exif[0x0112] = orientation
    if taken:
        exif.get_ifd(0x8769)[0x9003] = taken.strftime("%Y:%m:%d 10:30:00")
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90, exif=exif)
    return buf.getvalue()


def _teeth_row(d: Any, cx: int, y0: int, sign: int, n: int, pitch: int, shade: int, rnd) -> None:
    """One arch of teeth seen from the front: crowns hanging from (or standing on) ``y0``."""
    for i in range(-n, n + 1):
        x = cx + i * pitch
        width = pitch - 6 - abs(i) * 3
        height = (150 if sign < 0 else 128) - abs(i) * 6
        tone = shade - abs(i) * 4 + rnd.randint(-6, 6)
        y1 = y0 + sign * height
        box = (x - width // 2, min(y0, y1), x + width // 2, max(y0, y1))
        d.rounded_rectangle(box, radius=26, fill=(tone, tone - 8, tone - 30))


def intraoral_photo(seed: int, view: str, *, whiter: bool = False) -> bytes:
    """An intraoral photo: retracted lips, gums and teeth (frontal, left, right) or one arch
    seen in the occlusal mirror (occlusal upper/lower)."""
    import math

    from PIL import Image, ImageDraw, ImageFilter

    rnd = random.Random(seed)  # noqa: S311 - demo pixels, not secrets
    w, h = 1800, 1200
    im = Image.new("RGB", (w, h), (96, 28, 34))
    d = ImageDraw.Draw(im)
    shade = 246 if whiter else 232
    if view.startswith("intraoral_occlusal"):
        d.ellipse((200, 80, w - 200, h + 500), fill=(190, 92, 100))  # palate / tongue
        for i in range(16):  # a U-shaped arch
            a = math.pi * (0.08 + 0.84 * i / 15)
            x, y = w / 2 - 620 * math.cos(a), h - 80 - 900 * math.sin(a)
            r = 42 if 4 <= i <= 11 else 58
            tone = shade + rnd.randint(-8, 4)
            d.ellipse((x - r, y - r, x + r, y + r), fill=(tone, tone - 10, tone - 34))
    else:
        d.ellipse((120, 140, w - 120, h - 140), fill=(176, 74, 82))  # lips / cheeks
        d.ellipse((260, 300, w - 260, h - 300), fill=(214, 112, 118))  # gums
        d.rectangle((300, h // 2 - 18, w - 300, h // 2 + 18), fill=(60, 20, 25))
        shift = {"intraoral_left": -160, "intraoral_right": 160}.get(view, 0)
        _teeth_row(d, w // 2 + shift, h // 2 - 30, -1, 6, 92, shade, rnd)
        _teeth_row(d, w // 2 + shift, h // 2 + 30, 1, 6, 92, shade, rnd)
    return _jpeg(im.filter(ImageFilter.GaussianBlur(2.2)))


def extraoral_photo(
    seed: int, view: str, *, whiter: bool = False, taken: date | None = None
) -> bytes:
    """A clinical portrait on a plain backdrop: frontal, smile (close-up) or a profile. The
    portraits are stored as the camera saw them, turned, with EXIF orientation 6; ``taken``
    goes into EXIF (the worker reads the acquisition date from it)."""
    from PIL import Image, ImageDraw, ImageFilter

    rnd = random.Random(seed)  # noqa: S311 - demo pixels, not secrets
    skin = (224 - rnd.randint(0, 30), 178 - rnd.randint(0, 30), 150 - rnd.randint(0, 30))
    if view == "extraoral_smile":
        im = Image.new("RGB", (1800, 1200), tuple(c - 20 for c in skin))
        d = ImageDraw.Draw(im)
        d.ellipse((260, 330, 1540, 900), fill=(170, 80, 88))  # lips
        d.ellipse((380, 430, 1420, 790), fill=(70, 22, 28))  # mouth
        _teeth_row(d, 900, 600, -1, 5, 104, 248 if whiter else 222, rnd)
        _teeth_row(d, 900, 600, 1, 4, 96, 240 if whiter else 214, rnd)
        return _jpeg(im.filter(ImageFilter.GaussianBlur(2.5)), taken=taken)
    w, h = 1200, 1800  # portrait as displayed
    im = Image.new("RGB", (w, h), (206, 214, 222))
    d = ImageDraw.Draw(im)
    d.rectangle((380, 1250, 820, h), fill=tuple(c - 25 for c in skin))  # neck
    d.rectangle((120, 1500, 1080, h), fill=(40, 70, 110))  # shirt
    if view == "extraoral_frontal":
        d.ellipse((260, 300, 940, 1400), fill=skin)
        d.ellipse((240, 220, 960, 760), fill=(60, 40, 30))  # hair
        d.ellipse((290, 420, 910, 1400), fill=skin)
        for x in (470, 730):
            d.ellipse((x - 45, 770, x + 45, 820), fill=(60, 50, 45))  # eyes
        d.polygon([(600, 820), (560, 1010), (640, 1010)], fill=tuple(c - 20 for c in skin))
        d.chord((480, 1060, 720, 1200), 0, 180, fill=(170, 80, 88))  # smile
    else:
        facing_left = view == "extraoral_profile_left"
        d.ellipse((300, 300, 900, 1400), fill=skin)
        d.ellipse((280, 220, 920, 760), fill=(60, 40, 30))
        nose = [(300, 820), (190, 1000), (300, 1020)]
        if not facing_left:
            nose = [(w - x, y) for x, y in nose]
        d.polygon(nose, fill=skin)
        ex = 430 if facing_left else w - 430
        d.ellipse((ex - 40, 780, ex + 40, 820), fill=(60, 50, 45))
    im = im.filter(ImageFilter.GaussianBlur(2.0))
    return _jpeg(im.transpose(Image.Transpose.ROTATE_90), orientation=6, taken=taken)


def panoramic_16bit() -> bytes:
    """A 12-bit panoramic (16-bit PNG): jaw arcs, brighter crowns and roots, soft noise."""
    import numpy as np
    from PIL import Image

    h, w = 1200, 2600
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = w / 2, h * 0.15
    rx, ry = w * 0.42, h * 0.72
    r = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2
    base = 900 + 500 * np.exp(-((r - 1.0) ** 2) / 0.02)  # mandible band
    arr = base.copy()
    for arch_y in (h * 0.47, h * 0.58):
        for i in range(16):
            tx = w * 0.18 + i * (w * 0.64 / 15)
            tooth = np.exp(-(((x - tx) / 38) ** 2) - (((y - arch_y) / 110) ** 2))
            arr += 2200 * tooth
    arr += np.random.default_rng(3).normal(0, 60, (h, w))
    arr = np.clip(arr, 0, 4095).astype(np.uint16)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


def _dicom(
    arr: Any,
    *,
    patient_name: str,
    patient_id: str,
    modality: str,
    study: date,
    description: str,
    sop_class: str,
    transfer_syntax: str | None = None,
    hounsfield: bool = False,
    spacing: float | None = None,
) -> bytes:
    """A DICOM file of 12-bit greyscale ``arr`` (rows x cols, or frames x rows x cols);
    ``spacing``: mm per pixel at the sensor (ImagerPixelSpacing, the viewer's ruler)."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientName, ds.PatientID = patient_name, patient_id
    ds.Modality, ds.StudyDate, ds.BodyPartExamined = modality, study.strftime("%Y%m%d"), "JAW"
    ds.SeriesDescription = description
    ds.Rows, ds.Columns = arr.shape[-2], arr.shape[-1]
    if arr.ndim == 3:
        ds.NumberOfFrames = arr.shape[0]
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    if hounsfield:  # CT: stored values are Hounsfield units + 1024
        ds.RescaleSlope, ds.RescaleIntercept, ds.RescaleType = 1, -1024, "HU"
        ds.WindowCenter, ds.WindowWidth = 1000, 3000  # a bone window
    if spacing:
        ds.ImagerPixelSpacing = [spacing, spacing]
    ds.PixelData = arr.tobytes()
    if transfer_syntax:
        ds.compress(transfer_syntax, arr)
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def _noise(arr: Any, sigma: float, seed: int) -> Any:
    import numpy as np

    return np.clip(arr + np.random.default_rng(seed).normal(0, sigma, arr.shape), 0, 4095)


def periapical(seed: int, *, healing: float = 0.0) -> Any:
    """One incisor, crown to apex; ``healing`` (0..1) shrinks a periapical lesion."""
    import numpy as np

    rows, cols = 1000, 760
    y, x = np.mgrid[0:rows, 0:cols].astype(np.float32)
    crown = np.exp(-(((x - cols / 2) / 150) ** 2) - (((y - 300) / 170) ** 2))
    root = np.exp(-(((x - cols / 2) / 70) ** 2)) * (y > 380) * np.exp(-((y - 380) / 520))
    canal = np.exp(-(((x - cols / 2) / 10) ** 2)) * (y > 420)
    lesion = np.exp(-(((x - cols / 2) / 120) ** 2) - (((y - 880) / 90) ** 2)) * (1 - healing)
    arr = 900 + 2600 * crown + 1900 * root - 700 * canal - 800 * lesion
    return _noise(arr, 45, seed).astype(np.uint16)


def bitewing(seed: int) -> Any:
    """Upper and lower premolar/molar crowns meeting at the occlusal plane."""
    import numpy as np

    rows, cols = 900, 1200
    y, x = np.mgrid[0:rows, 0:cols].astype(np.float32)
    arr = np.full((rows, cols), 600.0, np.float32)
    for cx in (200, 460, 740, 1010):
        for cy, sign in ((330, -1), (570, 1)):
            arr += 2500 * np.exp(-(((x - cx) / 120) ** 4) - (((y - cy) / 150) ** 4))
            arr += 1800 * np.exp(-(((x - cx) / 60) ** 2)) * (sign * (y - cy) > 100)
    return _noise(arr, 40, seed).astype(np.uint16)


def cbct_volume(frames: int = 48, side: int = 256) -> Any:
    """Axial slices through a mandible: a bony arch whose teeth come and go slice by slice."""
    import numpy as np

    y, x = np.mgrid[0:side, 0:side].astype(np.float32) / side
    r = np.hypot((x - 0.5) / 0.42, (y - 0.85) / 0.7)
    slices = []
    for k in range(frames):
        band = np.exp(-(((r - 1.0) / 0.07) ** 2))
        teeth = 0.5 + 0.5 * np.cos(np.arctan2(y - 0.85, x - 0.5) * 16) ** 2
        level = 0.4 + 0.6 * np.sin(np.pi * k / frames)
        slices.append(1024 + 1200 * band * (0.7 + 0.3 * teeth * level) - 300 * (r > 1.15))
    return _noise(np.stack(slices), 30, 9).astype(np.uint16)


def pdf(title: str, lines: list[str]) -> bytes:
    """A one-page letter (reportlab)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=True)
    c.setTitle(title)
    c.setFont("Helvetica-Bold", 16)
    c.drawString(72, 770, title)
    c.setFont("Helvetica", 11)
    for i, line in enumerate(lines):
        c.drawString(72, 730 - 18 * i, line)
    c.showPage()
    c.save()
    return buf.getvalue()


# --- seeding ---------------------------------------------------------------------------------


def _put(
    key: str, data: bytes, content_type: str, tagged: bool, fields: dict[str, str] | None = None
) -> None:
    extra: dict[str, Any] = {}
    if tagged:
        extra["Tagging"] = f"{ORIGINAL_TAG[0]}={ORIGINAL_TAG[1]}"
    # The form's x-amz-meta-* fields (the slot's token, which the image worker checks).
    meta = {k[11:]: v for k, v in (fields or {}).items() if k.startswith("x-amz-meta-")}
    if meta:
        extra["Metadata"] = meta
    aws.client("s3").put_object(
        Bucket=settings().media_bucket, Key=key, Body=data, ContentType=content_type, **extra
    )


def _image(who: Principal, patient_id: str, data: bytes, **fields: Any) -> str:
    body = schemas.ImageIn(size=len(data), **fields)
    out = service.create_upload(who, patient_id, body)
    key = original_key(who.clinic_id, out.image.image_id)
    _put(key, data, body.content_type, True, out.upload.fields)
    return out.image.image_id


def _document(who: Principal, pid: str, data: bytes, **fields: Any) -> None:
    body = schemas.DocumentIn(content_type="application/pdf", size=len(data), **fields)
    doc = documents.create_upload(who, pid, body)
    key = document_key(who.clinic_id, doc.document.document_id)
    _put(key, data, body.content_type, False, doc.upload.fields)
    documents.complete(who, pid, doc.document.document_id)


def _photo(who: Principal, pid: str, data: bytes, view: str, day: date | None, name: str) -> str:
    return _image(
        who,
        pid,
        data,
        kind="photo",
        filename=f"{name}.jpg",
        content_type="image/jpeg",
        category=view,
        acquired_at=day,
    )


def _dcm(who: Principal, pid: str, data: bytes, name: str, **fields: Any) -> str:
    return _image(
        who,
        pid,
        data,
        kind="dicom",
        filename=f"{name}.dcm",
        content_type="application/dicom",
        **fields,
    )


INTRAORAL = (
    "intraoral_frontal",
    "intraoral_left",
    "intraoral_right",
    "intraoral_occlusal_upper",
    "intraoral_occlusal_lower",
)
EXTRAORAL = (
    "extraoral_frontal",
    "extraoral_smile",
    "extraoral_profile_left",
    "extraoral_profile_right",
)


def seed(ctx: DemoContext) -> None:
    from pydicom.uid import (
        CTImageStorage,
        DigitalIntraOralXRayImageStorageForPresentation,
        JPEGLSLossless,
    )

    who = ctx.demo.get("dentist") or next(iter(ctx.demo.values()))
    patients = _demo_patients(ctx.demo_clinic_id)
    if not patients:
        return
    today = now().date()
    start, control = today - timedelta(days=180), today - timedelta(days=7)
    pano = panoramic_16bit()
    io_class = DigitalIntraOralXRayImageStorageForPresentation
    for n, p in enumerate(patients):
        pid, showcase = p.patient_id, n == 0
        dicom_name, dicom_id = f"{p.last_name}^{p.first_name}", "DEMO-" + pid[-6:]

        # Photos: the start of treatment and a control visit, paired.
        views = INTRAORAL if showcase else INTRAORAL[:3]
        first = {
            v: _photo(who, pid, intraoral_photo(n * 10 + i, v), v, start, v)
            for i, v in enumerate(views)
        }
        after = _photo(
            who, pid, intraoral_photo(n * 10 + 9, views[0]), views[0], control, "frontal-control"
        )
        service.create_pair(
            who,
            pid,
            schemas.PairIn(before_id=first[views[0]], after_id=after, title="Inicio / control"),
        )
        if showcase:
            portraits = {  # no date given: the worker takes it from EXIF
                v: _photo(who, pid, extraoral_photo(i, v, taken=start), v, None, v)
                for i, v in enumerate(EXTRAORAL)
            }
            whitened = _photo(
                who,
                pid,
                extraoral_photo(1, "extraoral_smile", whiter=True, taken=control),
                "extraoral_smile",
                control,
                "sonrisa-blanqueamiento",
            )
            service.create_pair(
                who,
                pid,
                schemas.PairIn(
                    before_id=portraits["extraoral_smile"],
                    after_id=whitened,
                    title="Blanqueamiento: antes / después",
                ),
            )

        # X-rays: a panoramic, then tooth 11's periapicals over time (the compare view).
        _image(
            who,
            pid,
            pano,
            kind="xray",
            filename="panoramica.png",
            content_type="image/png",
            xray_type="panoramic",
            acquired_at=today - timedelta(days=200),
        )
        months = (24, 12, 2) if showcase else (14, 2)
        for i, m in enumerate(months):
            study = today - timedelta(days=30 * m)
            arr = periapical(n * 10 + i, healing=i / max(1, len(months) - 1))
            data = _dicom(
                arr,
                patient_name=dicom_name,
                patient_id=dicom_id,
                modality="IO",
                study=study,
                description="Periapical 11",
                sop_class=io_class,
                spacing=0.035,  # a size-2 sensor: 35 x 26.6 mm
            )
            _dcm(who, pid, data, f"periapical-11-{study:%Y%m}", teeth=[11])
        if showcase:
            data = _dicom(
                bitewing(n),
                patient_name=dicom_name,
                patient_id=dicom_id,
                modality="IO",
                study=control,
                description="Bitewing right",
                sop_class=io_class,
                transfer_syntax=JPEGLSLossless,
                spacing=0.03,
            )
            _dcm(who, pid, data, "aleta-derecha", teeth=[15, 16, 17, 45, 46, 47])
            data = _dicom(
                cbct_volume(),
                patient_name=dicom_name,
                patient_id=dicom_id,
                modality="CT",
                study=control,
                description="CBCT mandible",
                sop_class=CTImageStorage,
                hounsfield=True,
            )
            _dcm(who, pid, data, "cbct-mandibula", notes="Planificación de implante en 36")
        if n == 1:  # brought from another practice, with someone else's name in the header
            data = _dicom(
                periapical(99),
                patient_name="Ruiz Ortega^Antonio",
                patient_id="OTRA-0042",
                modality="IO",
                study=today - timedelta(days=400),
                description="Periapical 21",
                sop_class=io_class,
            )
            _dcm(
                who,
                pid,
                data,
                "periapical-otra-clinica",
                teeth=[21],
                notes="Aportada por el paciente (clínica anterior)",
            )

        # Documents.
        _document(
            who,
            pid,
            pdf(
                "Consentimiento informado - ortodoncia",
                [
                    "El paciente ha sido informado del tratamiento, sus riesgos y alternativas.",
                    "Firmado en Clínica Demo.",
                ],
            ),
            type="consent",
            title="Consentimiento ortodoncia",
            filename="consentimiento-ortodoncia.pdf",
        )
        if showcase:
            _document(
                who,
                pid,
                pdf(
                    "Derivación a cirugía maxilofacial",
                    [
                        "Motivo: valoración de implante en 36 (ver CBCT adjunto).",
                        "Dr./Dra.: equipo de Clínica Demo.",
                    ],
                ),
                type="referral",
                title="Derivación a cirugía maxilofacial",
                description="Valoración de implante en 36",
                filename="derivacion-maxilofacial.pdf",
            )
