"""Pure rules of the imaging records and the worker: lean API imports, FDI teeth, S3 key
parsing, the DICOM patient check, document sniffing and download headers."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from pydantic import ValidationError

from chalicelib.core.config import settings
from chalicelib.core.storage import content_disposition
from chalicelib.imaging import schemas
from chalicelib.imaging.documents import sniff_document
from chalicelib.imaging.worker import parse, patient_mismatch

A = "01J0000000000000000000000A"
B = "01J0000000000000000000000B"


def test_importing_the_api_never_imports_imaging_libraries():
    code = (
        "import sys, json, app\n"
        "import chalicelib.imaging.routes, chalicelib.imaging.service\n"
        "import chalicelib.imaging.documents, chalicelib.imaging.contracts\n"
        "print(json.dumps([m for m in ('PIL', 'pydicom', 'numpy') if m in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_original_tag_matches_the_infrastructure():
    from chalicelib.imaging.models import ORIGINAL_TAG
    from infra.resources import ORIGINAL_OBJECT_TAG

    assert ORIGINAL_TAG == ORIGINAL_OBJECT_TAG


@pytest.mark.parametrize("tooth", [11, 18, 21, 28, 31, 38, 41, 48, 51, 55, 61, 65, 71, 75, 81, 85])
def test_fdi_teeth_accepted(tooth):
    assert schemas.check_tooth(tooth) == tooth


@pytest.mark.parametrize("tooth", [0, 10, 19, 20, 29, 49, 50, 56, 66, 76, 86, 91, 111])
def test_non_fdi_numbers_refused(tooth):
    with pytest.raises(ValueError, match="FDI"):
        schemas.check_tooth(tooth)
    with pytest.raises(ValidationError):
        schemas.ImageUpdate(teeth=[tooth])


def _event(key, bucket=None, **extra):
    return json.dumps(
        {
            "source": "aws.s3",
            "detail-type": "Object Created",
            "detail": {
                "bucket": {"name": bucket or settings().media_bucket},
                "object": {"key": key, "size": 10, "etag": "abc", **extra},
            },
        }
    )


def test_parse_accepts_only_the_exact_upload_key():
    up = parse(_event(f"clinics/{A}/uploads/{B}/original"))
    assert up is not None and (up.clinic_id, up.image_id, up.size) == (A, B, 10)
    for key in (
        f"clinics/{A}/uploads/{B}/thumb.jpg",
        f"clinics/{A}/documents/{B}/original",
        f"clinics/{A}/uploads/{B}/x/original",
        f"clinics/{A}/uploads/../original",
        f"clinics/{A.lower()}/uploads/{B}/original",
        f"x/clinics/{A}/uploads/{B}/original",
    ):
        assert parse(_event(key)) is None, key
    assert parse(_event(f"clinics/{A}/uploads/{B}/original", bucket="other-bucket")) is None
    assert parse(json.dumps({"source": "cuspide", "detail-type": "Object Created"})) is None


@pytest.mark.parametrize(
    ("name", "pid", "expected"),
    [
        ("PEREZ^LUCIA", None, []),
        ("Pérez Gómez^Lucía María", None, []),
        ("GOMEZ^LUCIA", "12345678Z", []),
        ("Lucia Perez", None, []),
        ("MARTIN^JUAN", None, ["name"]),
        ("PEREZ^JUAN", None, ["name"]),
        (None, "87654321X", ["national_id"]),
        (None, "HC-000123", []),  # a practice id proves nothing
        ("MARTIN^JUAN", "Y1234567X", ["name", "national_id"]),
        ("", "", []),
    ],
)
def test_dicom_patient_check(name, pid, expected):
    assert (
        patient_mismatch(
            name,
            pid,
            first_name="Lucía",
            surnames=["Pérez", "Gómez"],
            national_id="12345678Z",
        )
        == expected
    )


def test_document_sniffing():
    assert sniff_document(b"%PDF-1.7\n") == "application/pdf"
    assert sniff_document(b"\xff\xd8\xff\xe0\0\x10JFIF") == "image/jpeg"
    assert sniff_document(b"\x89PNG\r\n\x1a\n\0\0") == "image/png"
    assert sniff_document(b"PK\x03\x04") is None
    assert sniff_document(b"") is None


def test_content_disposition_keeps_unicode_names_safely():
    h = content_disposition('consentimiento "firmado" ñ.pdf', attachment=True)
    assert h.startswith('attachment; filename="consentimiento _firmado_ n.pdf"')
    assert "filename*=UTF-8''consentimiento%20%22firmado%22%20%C3%B1.pdf" in h
    assert content_disposition("a.pdf").startswith("inline;")
