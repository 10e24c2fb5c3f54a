"""Demo clinical notes of Clínica Demo: the clinic's note templates (filling, extraction,
hygiene, endodontics, orthodontic check, in Spanish) and, for a handful of patients, signed
notes from them (one amended, one linked to a past visit with an image attached) and a
draft. Everything goes through the notes services, so hashes, audit entries, search entries
and events are real."""

from __future__ import annotations

from typing import Any

from chalicelib.agenda.models import Appointment, patient_index
from chalicelib.core.db import Item, clinic_pk
from chalicelib.core.ids import now
from chalicelib.imaging.models import Image
from chalicelib.notes import schemas, service, templates
from infra.local.seed.context import DemoContext

TEMPLATES: tuple[dict[str, Any], ...] = (
    {
        "name": "Obturación de composite",
        "treatment_type": "Obturación",
        "kind": "soap",
        "title": "Obturación",
        "subjective": "Sensibilidad al frío / dulce en la pieza ",
        "objective": "Caries en la pieza , caras . Sin dolor a la percusión.",
        "assessment": "Caries dentinaria sin afectación pulpar.",
        "plan": "Anestesia infiltrativa, aislamiento, obturación de composite. "
        "Control en la próxima revisión.",
    },
    {
        "name": "Extracción simple",
        "treatment_type": "Extracción",
        "kind": "soap",
        "title": "Extracción",
        "subjective": "Dolor / movilidad en la pieza . Sin alergias conocidas a anestésicos.",
        "objective": "Pieza  con destrucción coronaria / movilidad grado .",
        "assessment": "Pieza no restaurable: indicación de extracción.",
        "plan": "Anestesia, extracción, hemostasia con gasa. Instrucciones postoperatorias "
        "por escrito. Analgésico si precisa.",
    },
    {
        "name": "Higiene y tartrectomía",
        "treatment_type": "Higiene",
        "kind": "soap",
        "title": "Higiene dental",
        "subjective": "Acude a revisión y limpieza. Refiere sangrado al cepillado: sí / no.",
        "objective": "Placa y cálculo supragingival en sector . Índice de sangrado: .",
        "assessment": "Gingivitis asociada a placa / encías sanas.",
        "plan": "Tartrectomía con ultrasonidos y pulido. Instrucciones de higiene. "
        "Próxima limpieza en 6 meses.",
    },
    {
        "name": "Endodoncia",
        "treatment_type": "Endodoncia",
        "kind": "soap",
        "title": "Endodoncia",
        "subjective": "Dolor espontáneo / nocturno en la pieza .",
        "objective": "Percusión positiva, prueba de frío prolongada. Radiografía periapical: .",
        "assessment": "Pulpitis irreversible / necrosis pulpar en la pieza .",
        "plan": "Apertura, conductometría, instrumentación y obturación de conductos. "
        "Reconstrucción definitiva en la siguiente cita.",
    },
    {
        "name": "Revisión de ortodoncia",
        "treatment_type": "Ortodoncia",
        "kind": "free",
        "title": "Revisión de ortodoncia",
        "text": "Estado de los brackets y arcos: . Higiene: . Cambio de arco: . "
        "Elásticos: . Próxima revisión en 4-6 semanas.",
    },
)

NOTES: tuple[dict[str, Any], ...] = (
    # (patient index, template index, overrides, amendment or None, sign?)
    {
        "patient": 0,
        "template": 3,
        "body": {
            "subjective": "Dolor espontáneo y nocturno en la pieza 36 desde hace una semana.",
            "objective": "Percusión positiva en 36, prueba de frío prolongada. "
            "Radiografía periapical: lesión apical incipiente.",
            "assessment": "Pulpitis irreversible en la 36. Indicada endodóncia.",
            "plan": "Endodoncia de la 36 en dos sesiones; primera sesión hoy: apertura y "
            "conductometría. Ibuprofeno 600 mg si precisa.",
        },
        "amend": {
            "reason": "Dato omitido",
            "text": "Se le indicó también enjuague de clorhexidina al 0,12 % durante 7 días.",
        },
        "visit": True,
    },
    {
        "patient": 0,
        "template": 2,
        "body": {
            "subjective": "Acude a limpieza. Refiere sangrado al cepillado.",
            "objective": "Cálculo supragingival en sector anteroinferior. Sangrado al sondaje "
            "en 12 % de las localizaciones.",
            "assessment": "Gingivitis asociada a placa.",
            "plan": "Tartrectomía y pulido. Cepillo interproximal. Revisión en 6 meses.",
        },
    },
    {
        "patient": 1,
        "template": 0,
        "body": {
            "subjective": "Sensibilidad al frío en la pieza 46.",
            "objective": "Caries oclusal en la 46, sin dolor a la percusión.",
            "assessment": "Caries dentinaria sin afectación pulpar.",
            "plan": "Obturación de composite en 46 (cara oclusal). Control en la revisión.",
        },
    },
    {
        "patient": 2,
        "template": 1,
        "body": {
            "subjective": "Movilidad y dolor en la pieza 48.",
            "objective": "Cordal 48 semierupcionado con pericoronaritis de repetición.",
            "assessment": "Indicación de extracción del cordal 48.",
            "plan": "Extracción programada; amoxicilina 750 mg cada 8 h, 7 días, antes.",
        },
    },
    {
        "patient": 3,
        "template": 4,
        "body": {
            "text": "Brackets en buen estado. Higiene correcta. Cambio a arco 0,016 NiTi "
            "superior. Próxima revisión en 5 semanas."
        },
    },
    {
        "patient": 1,
        "template": None,
        "body": {"kind": "free", "text": "Llamada de control tras la obturación: sin dolor."},
        "draft": True,
    },
)


def _past_visit(clinic_id: str, patient_id: str) -> str | None:
    at = now().isoformat()
    for a in Item.gsi2.query(patient_index(clinic_id, patient_id), limit=20):
        if isinstance(a, Appointment) and a.start_utc < at:
            return a.appointment_id
    return None


def _an_image(clinic_id: str, patient_id: str) -> str | None:
    for img in Image.query(
        clinic_pk(clinic_id), Image.SK.startswith(Image.prefix(patient_id)), limit=10
    ):
        if isinstance(img, Image) and not img.deleted and img.status not in ("failed", "expired"):
            return img.image_id
    return None


def seed(ctx: DemoContext, patient_ids: list[str]) -> None:
    cid = ctx.demo_clinic_id
    admin = ctx.demo["admin"]
    dentist = ctx.demo.get("dentist") or admin
    hygienist = ctx.demo.get("hygienist") or dentist
    made = [templates.create_template(admin, schemas.TemplateIn(**t)) for t in TEMPLATES]
    if not patient_ids:
        return
    for spec in NOTES:
        pid = patient_ids[spec["patient"] % len(patient_ids)]
        author = hygienist if spec.get("template") == 2 else dentist
        tpl = made[spec["template"]] if spec.get("template") is not None else None
        base: dict[str, Any] = (
            {k: v for k, v in tpl.model_dump().items() if k in schemas.NoteBody.model_fields}
            if tpl
            else {}
        )
        body: dict[str, Any] = {**base, **spec["body"]}
        if tpl:
            body["template_id"] = tpl.template_id
        if spec.get("visit"):
            appt, image = _past_visit(cid, pid), _an_image(cid, pid)
            if appt:
                body["appointment_id"] = appt
            if image:
                body["attachments"] = [{"kind": "image", "id": image}]
        note = service.create_note(author, pid, schemas.NoteIn(**body))
        if spec.get("draft"):
            continue
        service.sign_note(author, pid, note.note_id)
        if spec.get("amend"):
            service.amend_note(author, pid, note.note_id, schemas.AmendmentIn(**spec["amend"]))
