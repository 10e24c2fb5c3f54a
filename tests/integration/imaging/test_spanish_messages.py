"""Imaging errors in the caller's language (docs/adr/0009): Spanish with ``Accept-Language: es``,
English without; the code is the same in both."""

from __future__ import annotations

from tests.integration.imaging.conftest import image_body

ES = {"Accept-Language": "es-ES,es;q=0.9,en;q=0.5"}


def test_an_unknown_image_is_a_404_in_spanish_or_english(api, clinic, patient):
    url = f"/patients/{patient['patient_id']}/images/01NOSUCHIMAGE"

    es = api.get(url, token=clinic.admin_token, headers=ES)
    assert es.status == 404, es.body
    assert es.json()["code"] == "IMAGE_NOT_FOUND"
    assert es.json()["message"] == "No hay ninguna imagen con ese id para este paciente."
    assert es.headers["Content-Language"] == "es"

    en = api.get(url, token=clinic.admin_token)
    assert en.status == 404, en.body
    assert en.json()["code"] == "IMAGE_NOT_FOUND"
    assert en.json()["message"] == "No image with that id for this patient."
    assert en.headers["Content-Language"] == "en"


def test_a_refused_content_type_is_explained_in_spanish_or_english(api, clinic, patient):
    url = f"/patients/{patient['patient_id']}/images"
    body = image_body("photo", b"x" * 10, content_type="application/pdf")

    es = api.post(url, body, token=clinic.admin_token, headers=ES)
    assert es.status == 422, es.body
    [error] = es.json()["errors"]
    assert error["message"] == (
        "content_type 'application/pdf' no se admite para kind 'photo': usa uno de "
        "image/heic, image/heif, image/jpeg, image/png, image/tiff, image/webp"
    )

    en = api.post(url, body, token=clinic.admin_token)
    assert en.status == 422, en.body
    [error] = en.json()["errors"]
    assert error["message"] == (
        "content_type 'application/pdf' is not accepted for kind 'photo': use one of "
        "image/heic, image/heif, image/jpeg, image/png, image/tiff, image/webp"
    )
    assert en.json()["code"] == es.json()["code"]
