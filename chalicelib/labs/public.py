"""The lab's page behind its signed link: HTML served by the API (ADR 1221).

GET shows the case and changes nothing (mail scanners prefetch links). The forms POST the
lab's own moves (in progress, shipped) and the expected delivery date, then redirect back to
the page (303, post/redirect/get); a small nonce'd script uploads files through the same
presigned POST as the clinic's. Every bad link (malformed, tampered, expired, revoked, another
case's, another clinic's) is a page that says so with a 4xx, never a 5xx. Only what the lab
needs is shown of the patient: initials and the case reference (minimal PHI).
"""

from __future__ import annotations

import json
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

from chalice import Response
from pydantic import ValidationError

from chalicelib.core import htmlpage, jsontext, ratelimit, storage
from chalicelib.core.errors import ApiError, TooManyRequests
from chalicelib.core.htmlpage import esc as _e
from chalicelib.identity.service import get_clinic
from chalicelib.labs import files, link, schemas, status
from chalicelib.labs.models import Lab, LabCase

VIEWS_PER_IP_PER_HOUR = 300
POSTS_PER_IP_PER_HOUR = 120

TEXT = {
    "es": {
        "title": "Caso de laboratorio",
        "patient": "Paciente (iniciales)",
        "ref": "Referencia",
        "work": "Trabajo",
        "teeth": "Piezas (FDI)",
        "shade": "Color",
        "material": "Material",
        "instructions": "Instrucciones",
        "priority": "Prioridad",
        "urgent": "Urgente",
        "normal": "Normal",
        "due": "Fecha requerida",
        "status": "Estado",
        "delivery": "Fecha de entrega prevista",
        "save_delivery": "Guardar fecha",
        "files": "Archivos",
        "no_files": "Sin archivos.",
        "upload": "Subir un archivo",
        "upload_btn": "Subir",
        "uploading": "Subiendo…",
        "upload_failed": "No se ha podido subir el archivo.",
        "to_in_progress": "Marcar en fabricación",
        "to_shipped": "Marcar como enviado",
        "note": "Nota para la clínica (opcional)",
        "history": "Historial",
        "lab": "el laboratorio",
        "staff": "la clínica",
        "malformed": "Este enlace no es válido.",
        "tampered": "Este enlace no es válido.",
        "expired": "Este enlace ha caducado. Pida uno nuevo a la clínica.",
        "revoked": "Este enlace ya no es válido: la clínica lo ha revocado o ha enviado uno nuevo.",
        "unavailable": "Este caso ya no está disponible. Consulte a la clínica.",
        "too_many": "Demasiadas solicitudes. Inténtelo más tarde.",
        "form_error": "Revise los datos del formulario.",
    },
    "en": {
        "title": "Lab case",
        "patient": "Patient (initials)",
        "ref": "Reference",
        "work": "Work",
        "teeth": "Teeth (FDI)",
        "shade": "Shade",
        "material": "Material",
        "instructions": "Instructions",
        "priority": "Priority",
        "urgent": "Urgent",
        "normal": "Normal",
        "due": "Needed by",
        "status": "Status",
        "delivery": "Expected delivery date",
        "save_delivery": "Save date",
        "files": "Files",
        "no_files": "No files.",
        "upload": "Upload a file",
        "upload_btn": "Upload",
        "uploading": "Uploading…",
        "upload_failed": "The file could not be uploaded.",
        "to_in_progress": "Mark in progress",
        "to_shipped": "Mark shipped",
        "note": "Note for the clinic (optional)",
        "history": "History",
        "lab": "the lab",
        "staff": "the clinic",
        "malformed": "This link is not valid.",
        "tampered": "This link is not valid.",
        "expired": "This link has expired. Ask the clinic for a new one.",
        "revoked": "This link is no longer valid: the clinic revoked it or sent a new one.",
        "unavailable": "This case is no longer available. Please contact the clinic.",
        "too_many": "Too many requests. Try again later.",
        "form_error": "Please check the form.",
    },
}
STATUS_NAMES = {
    "es": {
        "draft": "Borrador",
        "sent": "Enviado al laboratorio",
        "in_progress": "En fabricación",
        "shipped": "Enviado por el laboratorio",
        "received": "Recibido en la clínica",
        "fitted": "Colocado",
        "returned_for_remake": "Devuelto para rehacer",
    },
    "en": {
        "draft": "Draft",
        "sent": "Sent to the lab",
        "in_progress": "In progress",
        "shipped": "Shipped by the lab",
        "received": "Received at the clinic",
        "fitted": "Fitted",
        "returned_for_remake": "Returned for remake",
    },
}
HTTP = {"malformed": 404, "tampered": 404, "expired": 410, "revoked": 410, "unavailable": 410}


def _page(
    body: str,
    *,
    status_code: int = 200,
    title: str = "",
    nonce: str = "",
    lang: str = "es",
    connect: str = "",
) -> Response:
    doc = f"""<!doctype html><html lang="{_e(lang)}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow"><title>{_e(title)}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:0;color:#171717;background:#fafafa}}
header{{background:#0f766e;color:#fff;padding:16px 20px;font-size:20px;font-weight:600}}
main{{max-width:760px;margin:0 auto;padding:20px}} dl{{display:grid;
grid-template-columns:minmax(120px,max-content) 1fr;gap:6px 16px}} dt{{font-weight:600}}
dd{{margin:0}} .box{{background:#fff;border:1px solid #e5e5e5;border-radius:8px;padding:16px;
margin:12px 0}} button{{background:#0f766e;color:#fff;border:0;border-radius:6px;
padding:10px 16px;font-size:16px;margin:4px 8px 4px 0}} input,textarea{{font-size:16px;
padding:6px;max-width:100%;box-sizing:border-box}} textarea{{width:100%}}
.err{{color:#b91c1c}} ul{{padding-left:20px}} a{{color:#0f5f58}}
</style></head><body>{body}</body></html>"""
    return htmlpage.response(doc, status=status_code, nonce=nonce, connect=connect)


def _message(reason: str, lang: str = "es") -> Response:
    t = TEXT.get(lang, TEXT["es"])
    body = (
        f"<header>Cúspide</header><main><div class='box' role='alert'>"
        f"<p>{_e(t.get(reason, t['malformed']))}</p></div></main>"
    )
    return _page(body, status_code=HTTP.get(reason, 404), title=t["title"], lang=lang)


def _limit(kind: str, ip: str | None, limit: int) -> None:
    ratelimit.hit(
        f"lab-link-{kind}",
        ip or "unknown",
        limit=limit,
        window_s=3600,
        message="Too many requests; try again later.",
    )


def initials(first: str | None, last: str | None) -> str:
    return " ".join(f"{(n or '').strip()[:1].upper()}." for n in (first, last) if (n or "").strip())


def _lang(clinic_id: str) -> tuple[Any, str]:
    clinic = get_clinic(clinic_id)
    return clinic, clinic.language if clinic.language in TEXT else "es"


def view(token: str, ip: str | None) -> Response:
    try:
        _limit("view", ip, VIEWS_PER_IP_PER_HOUR)
        lk, c, lab = link.resolve(token)
    except TooManyRequests:
        return _page(f"<main><p>{TEXT['es']['too_many']}</p></main>", status_code=429)
    except link.LinkProblem as exc:
        return _message(exc.reason)
    return _render(token, lk.clinic_id, c, lab)


def _render(token: str, clinic_id: str, c: LabCase, lab: Lab | None, error: str = "") -> Response:
    from chalicelib.patients import service as patients  # noqa: PLC0415

    clinic, lang = _lang(clinic_id)
    t, names = TEXT[lang], STATUS_NAMES[lang]
    p = patients.load(clinic_id, c.patient_id)
    work = (link.WORK_ES if lang == "es" else link.WORK_EN).get(c.work_type, c.work_type)
    nonce = secrets.token_urlsafe(16)
    rows = [
        (t["ref"], c.case_id[-8:]),
        (t["patient"], initials(p.first_name, p.last_name)),
        (t["work"], work),
        (t["teeth"], ", ".join(str(int(x)) for x in c.teeth or []) or "-"),
        (t["shade"], c.shade or "-"),
        (t["material"], c.material or "-"),
        (t["priority"], t["urgent"] if c.priority == "urgent" else t["normal"]),
        (t["due"], c.due_date),
        (t["status"], names.get(c.status, c.status)),
        (t["delivery"], c.expected_delivery or "-"),
    ]
    dl = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in rows)
    if c.status == "sent" or c.status == "returned_for_remake":
        buttons = f"<button name='status' value='in_progress'>{_e(t['to_in_progress'])}</button>"
    elif c.status == "in_progress":
        buttons = f"<button name='status' value='shipped'>{_e(t['to_shipped'])}</button>"
    else:
        buttons = ""
    moves = (
        f"<form method='post' action='{_e(token)}/status' class='box'>"
        f"<label>{_e(t['note'])}<br><textarea name='note' maxlength='1000' rows='2'></textarea>"
        f"</label><p>{buttons}</p></form>"
        if buttons
        else ""
    )
    delivery = (
        f"<form method='post' action='{_e(token)}/delivery' class='box'>"
        f"<label>{_e(t['delivery'])}<br><input type='date' name='expected_delivery' required "
        f"value='{_e(c.expected_delivery or '')}'></label> "
        f"<button type='submit'>{_e(t['save_delivery'])}</button></form>"
        if c.status in status.NOT_BACK
        else ""
    )
    file_items = "".join(
        f"<li><a href='{_e(f.url)}' rel='noreferrer'>{_e(f.filename)}</a> ({_e(f.kind)}, "
        f"{_e(t['lab'] if f.by == 'lab' else t['staff'])})</li>"
        for f in files.outs(clinic_id, c, by_staff=False)
    )
    history = "".join(
        f"<li>{_e(h['at'][:16].replace('T', ' '))} · {_e(names.get(h['to_status'], ''))} · "
        f"{_e(t['lab'] if h['by'] == 'lab' else t['staff'])}"
        f"{(' · ' + _e(h['note'])) if h.get('note') else ''}</li>"
        for h in c.history or []
    )
    # The script talks to this API and to the bucket's upload endpoint, nothing else.
    sample = storage.presigned_post(
        files.file_key(clinic_id, c.case_id, "probe"), content_type="image/png", max_bytes=1
    )["url"]
    parts = urlsplit(sample)
    s3_origin = f"{parts.scheme}://{parts.netloc}"
    client = json.dumps({"failed": t["upload_failed"], "uploading": t["uploading"]})
    err = f"<p class='err' role='alert'>{_e(t.get(error, t['form_error']))}</p>" if error else ""
    body = f"""<header>{_e(clinic.name)}</header><main>
<h1>{_e(t["title"])} · {_e(work)}</h1>{err}
<div class="box"><dl>{dl}</dl>
<h2>{_e(t["instructions"])}</h2><p style="white-space:pre-wrap">{_e(c.instructions or "-")}</p>
</div>{moves}{delivery}
<div class="box"><h2>{_e(t["files"])}</h2>
<ul>{file_items or "<li>" + _e(t["no_files"]) + "</li>"}</ul>
<form id="up"><label>{_e(t["upload"])}<br><input type="file" id="file" required
accept=".jpg,.jpeg,.png,.pdf,.stl,.ply,.obj,.zip"></label>
<button type="submit">{_e(t["upload_btn"])}</button><p id="upmsg" role="status"></p></form></div>
<div class="box"><h2>{_e(t["history"])}</h2><ul>{history}</ul></div></main>
<script nonce="{nonce}">
(function(){{var T={client},f=document.getElementById('up'),
m=document.getElementById('upmsg');
var types={{jpg:'image/jpeg',jpeg:'image/jpeg',png:'image/png',pdf:'application/pdf',
stl:'model/stl',ply:'application/octet-stream',obj:'application/octet-stream',
zip:'application/zip'}};
function fail(j){{throw new Error((j&&j.message)||T.failed);}}
f.addEventListener('submit',function(e){{e.preventDefault();
var file=document.getElementById('file').files[0];if(!file)return;
var ext=(file.name.split('.').pop()||'').toLowerCase();m.textContent=T.uploading;
var base=location.pathname.replace(/\\/$/,'');
fetch(base+'/files',{{method:'POST',headers:{{'Content-Type':'application/json'}},
body:JSON.stringify({{filename:file.name,
content_type:types[ext]||'application/octet-stream',size:file.size}})}})
.then(function(r){{return r.json().then(function(j){{if(!r.ok)fail(j);return j.data;}});}})
.then(function(d){{var fd=new FormData();
Object.keys(d.upload.fields).forEach(function(k){{fd.append(k,d.upload.fields[k]);}});
fd.append('file',file);
return fetch(d.upload.url,{{method:'POST',body:fd}}).then(function(r){{
if(!r.ok)fail(null);
return fetch(base+'/files/'+d.file.file_id+'/complete',{{method:'POST'}});}});}})
.then(function(r){{if(!r.ok)return r.json().then(fail);location.reload();}})
.catch(function(err){{m.textContent=err.message||T.failed;}});}});}})();
</script>"""
    return _page(
        body, title=f"{t['title']} · {clinic.name}", nonce=nonce, lang=lang, connect=s3_origin
    )


def _form(raw: bytes, content_type: str) -> dict[str, str]:
    if "json" in content_type:
        data = jsontext.loads(raw or b"{}")
        if not isinstance(data, dict):
            raise ValueError("not an object")
        return {k: v for k, v in data.items() if isinstance(v, str)}
    qs = parse_qs(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    return {k: v[-1] for k, v in qs.items()}


def post(token: str, action: str, raw: bytes, content_type: str, ip: str | None) -> Response:
    """The lab's form posts: ``status`` (in_progress | shipped) and ``delivery``."""
    try:
        _limit("post", ip, POSTS_PER_IP_PER_HOUR)
    except TooManyRequests:
        return _page(f"<main><p>{TEXT['es']['too_many']}</p></main>", status_code=429)
    try:
        form = _form(raw, content_type)
    except (ValueError, UnicodeDecodeError):
        form = {}
    try:
        if action == "status":
            data = schemas.LabPageStatusIn.model_validate(
                {"status": form.get("status", ""), "note": form.get("note") or None}
            )
            link.lab_move(token, data.status, data.note)
        else:
            d = schemas.LabPageDeliveryIn.model_validate(
                {"expected_delivery": form.get("expected_delivery", "")}
            )
            link.lab_delivery(token, d.expected_delivery.isoformat())
    except link.LinkProblem as exc:
        return _message(exc.reason)
    except (ValidationError, ApiError) as exc:
        try:
            lk, c, lab = link.resolve(token)
        except link.LinkProblem as problem:
            return _message(problem.reason)
        resp = _render(token, lk.clinic_id, c, lab, error="form_error")
        resp.status_code = exc.status if isinstance(exc, ApiError) else 422
        return resp
    return Response(
        body="",
        status_code=303,
        headers={"Location": f"../{token}", "Cache-Control": "no-store"},
    )


def _limit_posts(ip: str | None) -> None:
    _limit("post", ip, POSTS_PER_IP_PER_HOUR)


def upload(token: str, data: schemas.FileIn, ip: str | None) -> schemas.FileUploadOut:
    """JSON: a presigned upload form for the lab's file (4xx for a bad link)."""
    _limit_posts(ip)
    try:
        return link.lab_upload(token, data)
    except link.LinkProblem as exc:
        raise link.problem_error(exc) from exc


def complete(token: str, file_id: str, ip: str | None) -> schemas.FileOut:
    _limit_posts(ip)
    try:
        return link.lab_complete(token, file_id)
    except link.LinkProblem as exc:
        raise link.problem_error(exc) from exc
