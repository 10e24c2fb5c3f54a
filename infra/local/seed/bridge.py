"""The demo Bridge device of Clínica Demo ("Sensor Gabinete 1", with the documented key
:data:`~infra.local.seed.context.DEMO_DEVICE_KEY`) and a few captures waiting in its inbox,
requested through the device API's service and uploaded to S3 like a real Bridge would, so the
image worker renders them once ``make run`` pumps its queue:

* a periapical whose file name says nothing (``no_match``);
* a DICOM whose header's PatientID is one demo patient's id while its name and birth date are
  another's (``ambiguous``, both as candidates);
* a two-file DICOM study from a lab, nobody's (``no_match``): assigning one moves both.

The device is placed in Gabinete 1 after the captures, so today's appointment in progress
there (the agenda seed's) does not claim them.
"""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta
from typing import Any

from chalicelib.bridge import captures, devices, keys, schemas
from chalicelib.bridge.models import Device, DeviceKey
from chalicelib.core.api import DevicePrincipal
from chalicelib.core.ids import now
from chalicelib.imaging.models import original_key
from infra.local.seed.context import DEMO_DEVICE_KEY, DemoContext
from infra.local.seed.imaging import _demo_patients, _dicom, _put, periapical


def _install_demo_key(clinic_id: str, device_id: str) -> None:
    """Swap the random key the device was registered with for the documented demo key."""
    d = Device.get(*Device.key(clinic_id, device_id))
    if d.key_prefix:
        DeviceKey(*DeviceKey.key(d.key_prefix)).delete()
    prefix = keys.parse(DEMO_DEVICE_KEY)
    assert prefix is not None
    keys.lookup_item(prefix, clinic_id, device_id, DEMO_DEVICE_KEY).save()
    d.update(actions=[Device.key_prefix.set(prefix)])


def _png16(arr: Any) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


def _with_study(data: bytes, study: str, series: str, number: int) -> bytes:
    import pydicom

    ds = pydicom.dcmread(io.BytesIO(data))
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
    ds.SeriesNumber, ds.InstanceNumber = 1, number
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def _send(device: DevicePrincipal, data: bytes, **fields: Any) -> str:
    body = schemas.CaptureIn(size=len(data), sha256=hashlib.sha256(data).hexdigest(), **fields)
    out = captures.request(device, body)
    assert isinstance(out, schemas.CaptureUploadOut) and out.upload
    _put(
        original_key(device.clinic_id, out.image_id),
        data,
        body.content_type,
        True,
        out.upload.fields,
    )
    return out.image_id


def seed(ctx: DemoContext) -> None:
    from pydicom.uid import DigitalIntraOralXRayImageStorageForPresentation, generate_uid

    admin = ctx.demo.get("admin")
    patients = _demo_patients(ctx.demo_clinic_id)
    if admin is None or len(patients) < 2:
        return
    out = devices.register(
        admin,
        schemas.DeviceIn(
            name="Sensor Gabinete 1",
            defaults=schemas.DeviceDefaults(kind="xray", xray_type="periapical"),
            folders=["C:\\Sensor\\Export"],
        ),
    )
    device_id = out.device.device_id
    _install_demo_key(ctx.demo_clinic_id, device_id)
    device = DevicePrincipal(
        device_id=device_id,
        clinic_id=ctx.demo_clinic_id,
        name="Sensor Gabinete 1",
        key_prefix=keys.parse(DEMO_DEVICE_KEY) or "",
    )
    today = now().date()
    io_class = DigitalIntraOralXRayImageStorageForPresentation

    _send(device, _png16(periapical(71)), filename="IMG_0042.png", content_type="image/png")

    first, second = patients[0], patients[1]
    data = _dicom(
        periapical(72),
        patient_name=f"{second.last_name}^{second.first_name}",
        patient_id=first.patient_id,
        modality="IO",
        study=today,
        description="Periapical 36",
        sop_class=io_class,
    )
    _send(
        device,
        data,
        filename="RX_000318.dcm",
        content_type="application/dicom",
        dicom=schemas.DicomHints(
            patient_id=first.patient_id,
            patient_name=f"{second.last_name}^{second.first_name}",
            birth_date=second.date_of_birth,
            modality="IO",
            study_date=today.isoformat(),
        ),
    )

    study, series = generate_uid(), generate_uid()
    for n in (1, 2):
        raw = _dicom(
            periapical(80 + n),
            patient_name="Lab^Anonimo",
            patient_id="LAB-7781",
            modality="IO",
            study=today - timedelta(days=3),
            description="Serie periapical",
            sop_class=io_class,
        )
        data = _with_study(raw, study, series, n)
        _send(
            device,
            data,
            filename=f"estudio_lab/IM{n:04d}.dcm",
            content_type="application/dicom",
            dicom=schemas.DicomHints(
                patient_id="LAB-7781",
                patient_name="Lab^Anonimo",
                study_instance_uid=study,
                series_instance_uid=series,
                series_number=1,
                instance_number=n,
                modality="IO",
            ),
        )

    from chalicelib.agenda.models import Cabinet
    from chalicelib.core.db import clinic_pk

    cabinets = [
        c
        for c in Cabinet.query(clinic_pk(ctx.demo_clinic_id), Cabinet.SK.startswith("CAB#"))
        if isinstance(c, Cabinet)
    ]
    first_cab = min(cabinets, key=lambda c: c.position, default=None)
    if first_cab is not None:
        devices.update(admin, device_id, schemas.DeviceUpdate(cabinet_id=first_cab.cabinet_id))
