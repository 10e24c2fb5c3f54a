"""The booking widget: a small script a clinic pastes into its own website
(``<script src=".../public/booking/<clinic_id>/widget.js" async></script>``). It inserts a
"Book an appointment" button after itself; on a site the clinic listed in its settings
(``embed_origins``, which the page's CSP ``frame-ancestors`` allows) the button opens the
booking page in an accessible dialog with an iframe, anywhere else in a new tab (ADR 1403).
"""

from __future__ import annotations

import json

from chalice import Response

from chalicelib.booking import abuse, service
from chalicelib.booking.invites import booking_page_url
from chalicelib.core import scoping
from chalicelib.core.errors import TooManyRequests

SCRIPT = """(function(){
var U=__URL__,O=__ORIGINS__,L=__LABELS__,C=__COLOUR__;
var s=document.currentScript;var lang=(document.documentElement.lang||'es').slice(0,2)==='en'?'en':'es';
var b=document.createElement('button');b.type='button';b.textContent=L[lang];
b.setAttribute('style','background:'+C+';color:#fff;border:0;border-radius:6px;padding:12px 18px;font:600 16px system-ui,sans-serif;cursor:pointer');
b.addEventListener('click',function(){var url=U+'?lang='+lang;
if(O.indexOf(location.origin)<0){window.open(url,'_blank','noopener');return}
var d=document.createElement('div');d.setAttribute('role','dialog');d.setAttribute('aria-modal','true');d.setAttribute('aria-label',L[lang]);
d.setAttribute('style','position:fixed;inset:0;background:rgba(0,0,0,.5);z-index:2147483647;display:flex;align-items:center;justify-content:center');
var f=document.createElement('iframe');f.src=url;f.title=L[lang];f.setAttribute('style','width:min(640px,100%);height:min(760px,100%);border:0;background:#fff;border-radius:8px');
var x=document.createElement('button');x.type='button';x.textContent='\\u00d7';x.setAttribute('aria-label',lang==='en'?'Close':'Cerrar');
x.setAttribute('style','position:absolute;top:8px;right:12px;font-size:28px;background:#fff;border:0;border-radius:50%;width:44px;height:44px;cursor:pointer');
function close(){d.remove();b.focus();document.removeEventListener('keydown',esc)}function esc(e){if(e.key==='Escape')close()}
x.addEventListener('click',close);document.addEventListener('keydown',esc);d.appendChild(f);d.appendChild(x);document.body.appendChild(d);x.focus()});
s.parentNode.insertBefore(b,s.nextSibling)})();
"""


def _js(body: str, status: int = 200, extra: dict[str, str] | None = None) -> Response:
    return Response(
        body=body,
        status_code=status,
        headers={
            "Content-Type": "application/javascript; charset=utf-8",
            "Cache-Control": "public, max-age=300",
            "X-Content-Type-Options": "nosniff",
            **(extra or {}),
        },
    )


def script(clinic_id: str, ip: str | None) -> Response:
    try:
        abuse.limit("view-ip", ip or "")
    except TooManyRequests as exc:
        return _js("/* too many requests */", 429, {"Retry-After": str(exc.retry_after)})
    if not scoping.is_plain_id(clinic_id):
        return _js("/* unknown clinic */", 404)
    scoping.adopt(clinic_id)
    try:
        ctx = service.context(clinic_id)
    except service.Closed as exc:
        # The clinic's website stays intact: no button while booking is off.
        return _js(f"/* online booking {exc.reason} */", 404 if exc.reason == "unknown" else 200)
    b = ctx.clinic.branding or {}
    colour = b.get("color") or b.get("colour") or "#0f766e"
    body = (
        SCRIPT.replace("__URL__", json.dumps(booking_page_url(clinic_id)))
        .replace("__ORIGINS__", json.dumps(list(ctx.settings.embed_origins or [])))
        .replace("__LABELS__", json.dumps({"es": "Pedir cita", "en": "Book an appointment"}))
        .replace("__COLOUR__", json.dumps(colour if isinstance(colour, str) else "#0f766e"))
    )
    return _js(body)
