"""The patient's budget page behind a signed link: HTML served by the API.

GET shows the budget (branded, in the patient's language) and changes nothing, so mail
scanners and link previews that prefetch it cannot accept anything. POST (form or JSON) with
the typed name, the relationship to the patient and the drawn signature accepts it. Every
problem (malformed, tampered, expired, reused, withdrawn) is a page that says so, never a 5xx.
"""

from __future__ import annotations

import json
import secrets
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

from chalice import Response

from chalicelib.billing import budgets, common, money
from chalicelib.core import htmlpage, jsontext, ratelimit
from chalicelib.core.errors import ApiError, TooManyRequests
from chalicelib.core.htmlpage import esc as _e
from chalicelib.core.observability import logger

VIEWS_PER_IP_PER_HOUR = 120
POSTS_PER_IP_PER_HOUR = 20

TEXT = {
    "es": {
        "title": "Presupuesto",
        "valid_until": "Válido hasta",
        "patient": "Paciente",
        "treatment": "Tratamiento",
        "tooth": "Pieza",
        "total": "Total",
        "vat": "IVA",
        "base": "Base",
        "accept_lines": "Marque los tratamientos que acepta",
        "accept_line": "Acepto",
        "name": "Nombre y apellidos de quien firma",
        "relationship": "Relación con el paciente",
        "self": "El propio paciente",
        "sign": "Firme aquí",
        "clear": "Borrar",
        "accept": "Acepto el presupuesto",
        "pdf": "Ver el presupuesto en PDF",
        "done": "Presupuesto aceptado. Gracias.",
        "done_detail": "La clínica ha recibido su aceptación.",
        "malformed": "Este enlace no es válido.",
        "tampered": "Este enlace no es válido.",
        "expired": "Este enlace ha caducado. Pida uno nuevo a la clínica.",
        "used": "Este enlace ya se ha utilizado.",
        "accepted": "Este presupuesto ya está aceptado.",
        "unavailable": "Este presupuesto ya no está disponible. Consulte a la clínica.",
        "changed": "El presupuesto ha cambiado mientras lo revisaba. Recargue la página.",
        "too_many": "Demasiadas solicitudes. Inténtelo más tarde.",
        "form_error": "Revise los datos: escriba su nombre y firme en el recuadro.",
        "no_name": "Escriba el nombre y apellidos de quien firma.",
        "no_lines": "Marque al menos un tratamiento para aceptarlo. No se ha aceptado nada.",
        "blank_signature": "La firma está en blanco: firme dentro del recuadro con el dedo o "
        "el ratón. No se ha aceptado nada.",
        "bad_signature": "No hemos podido leer la firma: bórrela y vuelva a firmar.",
    },
    "en": {
        "title": "Treatment estimate",
        "valid_until": "Valid until",
        "patient": "Patient",
        "treatment": "Treatment",
        "tooth": "Tooth",
        "total": "Total",
        "vat": "VAT",
        "base": "Net",
        "accept_lines": "Tick the treatments you accept",
        "accept_line": "I accept",
        "name": "Full name of the person signing",
        "relationship": "Relationship to the patient",
        "self": "The patient",
        "sign": "Sign here",
        "clear": "Clear",
        "accept": "I accept the estimate",
        "pdf": "View the estimate as PDF",
        "done": "Estimate accepted. Thank you.",
        "done_detail": "The clinic has received your acceptance.",
        "malformed": "This link is not valid.",
        "tampered": "This link is not valid.",
        "expired": "This link has expired. Ask the clinic for a new one.",
        "used": "This link has already been used.",
        "accepted": "This estimate is already accepted.",
        "unavailable": "This estimate is no longer available. Please contact the clinic.",
        "changed": "The estimate changed while you were reading it. Reload the page.",
        "too_many": "Too many requests. Try again later.",
        "form_error": "Please type your name and sign in the box.",
        "no_name": "Type the full name of the person signing.",
        "no_lines": "Tick at least one treatment to accept it. Nothing has been accepted.",
        "blank_signature": "The signature is blank: sign inside the box with your finger or "
        "the mouse. Nothing has been accepted.",
        "bad_signature": "We could not read the signature: clear it and sign again.",
    },
}
STATUS = {
    "malformed": 404,
    "tampered": 404,
    "expired": 410,
    "used": 410,
    "accepted": 410,
    "unavailable": 410,
    "changed": 409,
}


def _page(
    body: str,
    *,
    status: int = 200,
    colour: str = "#0f766e",
    title: str = "",
    nonce: str = "",
    lang: str = "es",
) -> Response:
    doc = f"""<!doctype html><html lang="{_e(lang)}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow"><title>{_e(title)}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:0;color:#171717;background:#fafafa}}
header{{background:{colour};color:#fff;padding:16px 20px;font-size:20px;font-weight:600}}
main{{max-width:760px;margin:0 auto;padding:20px}} table{{width:100%;border-collapse:collapse}}
td,th{{padding:6px;border-bottom:1px solid #e5e5e5;text-align:left;font-size:14px}}
.r{{text-align:right}} .box{{background:#fff;border:1px solid #e5e5e5;border-radius:8px;
padding:16px;margin:12px 0}}
canvas{{border:1px dashed #737373;width:100%;height:160px;touch-action:none;background:#fff}}
button{{background:{colour};color:#fff;border:0;border-radius:6px;padding:12px 18px;font-size:16px}}
input[type=text]{{width:100%;padding:8px;font-size:16px;
box-sizing:border-box}} .err{{color:#b91c1c}}
</style></head><body>{body}</body></html>"""
    return htmlpage.response(doc, status=status, nonce=nonce)


def _message(reason: str, lang: str = "es", clinic: Any = None) -> Response:
    t = TEXT.get(lang, TEXT["es"])
    colour = ((clinic.branding or {}).get("color") if clinic else None) or "#0f766e"
    name = _e(clinic.name) if clinic else "Cúspide"
    msg = _e(t.get(reason, t["malformed"]))
    body = f"<header>{name}</header><main><div class='box'><p>{msg}</p></div></main>"
    return _page(body, status=STATUS.get(reason, 404), colour=colour, title=name, lang=lang)


def _limit(kind: str, ip: str | None, limit: int) -> None:
    ratelimit.hit(
        f"budget-link-{kind}",
        ip or "unknown",
        limit=limit,
        window_s=3600,
        message="Too many requests; try again later.",
    )


def view(token: str, ip: str | None, error: str | None = None) -> Response:
    try:
        _limit("view", ip, VIEWS_PER_IP_PER_HOUR)
        _, b = budgets.resolve_link(token)
    except TooManyRequests:
        return _page(f"<main><p>{TEXT['es']['too_many']}</p></main>", status=429)
    except budgets.LinkProblem as exc:
        return _message(exc.reason, exc.language, exc.clinic)
    return _render(token, b, error)


def _render(token: str, b: Any, error: str | None = None) -> Response:
    cid = b.PK.removeprefix("C#")
    clinic = common.clinic(cid)
    p = common.patient(cid, b.patient_id)
    lang = b.language if b.language in TEXT else "es"
    t = TEXT[lang]
    _, digest = budgets.pdf_digest(b)
    colour = (clinic.branding or {}).get("color") or "#0f766e"
    nonce = secrets.token_urlsafe(16)
    client_text = json.dumps({k: t[k] for k in ("no_lines", "blank_signature")})
    rows = "".join(
        f"<tr><td><input type='checkbox' name='line_ids' value='{_e(ln['line_id'])}' checked "
        f"aria-label='{_e(t['accept_line'])}: {_e(ln['description'])}'></td>"
        f"<td>{_e(ln['description'])}</td><td>{_e(ln['tooth'] or '')} {_e(''.join(ln['surfaces'] or []))}</td>"  # noqa: E501
        f"<td class='r'>{_e(money.fmt_eur(Decimal(ln['total']), lang))}</td></tr>"
        for ln in b.lines
    )
    totals = b.totals
    err = (
        f"<p class='err' role='alert' id='err'>{_e(t.get(error or '', t['form_error']))}</p>"
        if error
        else "<p class='err' role='alert' id='err'></p>"
    )
    body = f"""<header>{_e(clinic.name)}</header><main>
<h1>{_e(t["title"])} {_e(b.number)}</h1>
<p>{_e(t["patient"])}: <b>{_e(common.patient_name(p))}</b> ·
{_e(t["valid_until"])}: {_e(b.valid_until)}</p>
<form method="post" id="f"><div class="box"><p>{_e(t["accept_lines"])}</p><table>
<tr><th></th><th>{_e(t["treatment"])}</th><th>{_e(t["tooth"])}</th>
<th class="r">{_e(t["total"])}</th></tr>
{rows}
<tr><td></td><td>{_e(t["base"])}</td><td></td>
<td class="r">{_e(money.fmt_eur(Decimal(totals["base"]), lang))}</td></tr>
<tr><td></td><td>{_e(t["vat"])}</td><td></td>
<td class="r">{_e(money.fmt_eur(Decimal(totals["vat"]), lang))}</td></tr>
<tr><td></td><td><b>{_e(t["total"])}</b></td><td></td><td class="r">
<b>{_e(money.fmt_eur(Decimal(totals["total"]), lang))}</b></td></tr>
</table><p><a href="{_e(token)}/pdf" rel="noreferrer">{_e(t["pdf"])}</a></p></div>
<div class="box">{err}<label>{_e(t["name"])}<br>
<input type="text" name="signer_name" required maxlength="200" autocomplete="name"></label>
<p><label>{_e(t["relationship"])}<br>
<input type="text" name="relationship" value="{_e(t["self"])}" maxlength="60"></label></p>
<p id="sign-label">{_e(t["sign"])}</p><canvas id="c" width="700" height="160" role="img"
aria-labelledby="sign-label" tabindex="0"></canvas>
<p><button type="button" id="clear" style="background:#737373">{_e(t["clear"])}</button></p>
<input type="hidden" name="signature" id="sig">
<input type="hidden" name="pdf_sha256" value="{digest}">
<p><button type="submit">{_e(t["accept"])}</button></p></div></form></main>
<script nonce="{nonce}">
(function(){{var c=document.getElementById('c'),x=c.getContext('2d'),d=false,n=0;x.lineWidth=2;
function p(e){{var r=c.getBoundingClientRect();
return [(e.clientX-r.left)*c.width/r.width,(e.clientY-r.top)*c.height/r.height];}}
c.addEventListener('pointerdown',function(e){{d=true;var q=p(e);x.beginPath();
document.getElementById('err').textContent='';
x.moveTo(q[0],q[1]);}});
c.addEventListener('pointermove',function(e){{if(!d)return;var q=p(e);x.lineTo(q[0],q[1]);
x.stroke();n++;}});
window.addEventListener('pointerup',function(){{d=false;}});
document.getElementById('clear').onclick=function(){{x.clearRect(0,0,c.width,c.height);n=0;}};
var msg=document.getElementById('err'),T={client_text};
document.getElementById('f').addEventListener('submit',function(e){{
if(!document.querySelector('input[name=line_ids]:checked')){{e.preventDefault();
msg.textContent=T.no_lines;return;}}
if(n<3){{e.preventDefault();msg.textContent=T.blank_signature;c.focus();return;}}
document.getElementById('sig').value=c.toDataURL('image/png');}});}})();
</script>"""
    return _page(body, colour=colour, title=f"{t['title']} {b.number}", nonce=nonce, lang=lang)


def _form(raw: bytes, content_type: str) -> dict[str, Any]:
    if "json" in content_type:
        data = jsontext.loads(raw or b"{}")
        if not isinstance(data, dict):
            raise ValueError("not an object")
        return data
    qs = parse_qs(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=300)
    out: dict[str, Any] = {k: v[-1] for k, v in qs.items() if k != "line_ids"}
    # A browser leaves unticked checkboxes out: no line_ids in a form means none ticked.
    out["line_ids"] = [i for i in qs.get("line_ids", []) if i]
    return out


def accept(token: str, raw: bytes, content_type: str, ip: str | None, ua: str | None) -> Response:
    try:
        _limit("post", ip, POSTS_PER_IP_PER_HOUR)
    except TooManyRequests:
        return _page(f"<main><p>{TEXT['es']['too_many']}</p></main>", status=429)
    try:
        form = _form(raw, content_type)
    except (ValueError, UnicodeDecodeError):
        form = {}
    try:
        line_ids = form.get("line_ids")
        if line_ids is not None and not (
            isinstance(line_ids, list) and all(isinstance(i, str) for i in line_ids)
        ):
            raise ValueError("line_ids")
        b, acc = budgets.accept_by_link(
            token,
            signer_name=str(form.get("signer_name") or ""),
            relationship=str(form.get("relationship") or "self"),
            signature=str(form.get("signature") or ""),
            line_ids=line_ids,
            pdf_sha256=str(form["pdf_sha256"]) if form.get("pdf_sha256") else None,
            ip=ip,
            user_agent=ua,
        )
    except budgets.LinkProblem as exc:
        return _message(exc.reason, exc.language, exc.clinic)
    except (ValueError, TypeError) as exc:
        try:
            _, b = budgets.resolve_link(token)
        except budgets.LinkProblem as problem:
            return _message(problem.reason, problem.language, problem.clinic)
        reason = exc.reason if isinstance(exc, budgets.FormProblem) else "form_error"
        reason = "no_name" if reason == "name" else reason
        resp = _render(token, b, error=reason)
        resp.status_code = 422
        return resp
    except ApiError as exc:  # 4xx from the service (e.g. unknown line ids): show the form again
        if exc.status >= 500:
            logger.exception("budget link acceptance failed")
            return _message("unavailable")
        try:
            _, b = budgets.resolve_link(token)
        except budgets.LinkProblem as problem:
            return _message(problem.reason, problem.language, problem.clinic)
        resp = _render(token, b, error="form")
        resp.status_code = 422
        return resp
    clinic = common.clinic(b.PK.removeprefix("C#"))
    t = TEXT.get(b.language, TEXT["es"])
    colour = (clinic.branding or {}).get("color") or "#0f766e"
    body = (
        f"<header>{_e(clinic.name)}</header><main><div class='box'><h1>{_e(t['done'])}</h1>"
        f"<p>{_e(t['done_detail'])}</p><p>{_e(b.number)} · {_e(acc.signer_name)} · "
        f"SHA-256 {_e(acc.pdf_sha256)}</p></div></main>"
    )
    return _page(body, colour=colour, title=t["done"], lang=b.language)


def pdf(token: str, ip: str | None) -> Response:
    try:
        _limit("view", ip, VIEWS_PER_IP_PER_HOUR)
        _, b = budgets.resolve_link(token)
    except TooManyRequests:
        return _page(f"<main><p>{TEXT['es']['too_many']}</p></main>", status=429)
    except budgets.LinkProblem as exc:
        return _message(exc.reason, exc.language, exc.clinic)
    data, _ = budgets.pdf_digest(b)
    return Response(
        body=data,
        status_code=200,
        headers={
            "Content-Type": "application/pdf",
            "Content-Disposition": f'inline; filename="{b.number}.pdf"',
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
        },
    )
