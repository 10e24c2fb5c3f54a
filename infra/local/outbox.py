"""The developer outbox of the local stack (docs/adr/0704), served beside the API:

    GET  /_local/outbox                         the page: mail and WhatsApp, newest first
    GET  /_local/outbox/messages.json           the same as JSON (for scripts and tests)
    GET  /_local/outbox/mail/<id>/html|text|ics|eml    one message's parts
    *    /_local/graph/<version>/...            a stand-in for Meta's Graph API

Mail is what SES (moto, running in this process) accepted: read from moto's backend, never
from the app. The app's WhatsApp client is pointed here with ``WHATSAPP_GRAPH_URL``; the
stand-in records each message and answers the way the Cloud API does (a ``wamid`` per message),
so nothing leaves the machine. Local tooling only: nothing here is deployed, and chalicelib
knows nothing about it. What it shows lives in memory since the stack started.
"""

from __future__ import annotations

import email
import email.policy
import html
import itertools
import json
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from functools import partial
from typing import Any

from infra.local.server import HttpResponse

OUTBOX = "/_local/outbox"
GRAPH = "/_local/graph"
Handler = Callable[[str, bytes], HttpResponse]
# A mail's own HTML is shown as a careful mail client would: no scripts, no forms; its links
# (the patient's Confirm / Cancel) still open when clicked.
MAIL_CSP = (
    "sandbox allow-popups allow-top-navigation-by-user-activation; default-src 'none'; "
    "img-src * data:; style-src 'unsafe-inline'"
)


def graph_url(base: str) -> str:
    """The value of ``WHATSAPP_GRAPH_URL`` for a stack served at ``base``."""
    return f"{base}{GRAPH}/v21.0"


class Routes(dict):
    """``extra_routes`` for :func:`infra.local.server.start`: exact paths, plus prefixes (keys
    ending in ``/``) whose handler also receives the request path."""

    def _prefix(self, path: str) -> str | None:
        return next(
            (
                k
                for k in sorted(self, key=len, reverse=True)
                if k.endswith("/") and path.startswith(k)
            ),
            None,
        )

    def __contains__(self, path: object) -> bool:
        return dict.__contains__(self, path) or (
            isinstance(path, str) and self._prefix(path) is not None
        )

    def __getitem__(self, path: str) -> Handler:
        if dict.__contains__(self, path) and not path.endswith("/"):
            return dict.__getitem__(self, path)
        prefix = self._prefix(path)
        if prefix is None:
            raise KeyError(path)
        return partial(dict.__getitem__(self, prefix), path)


# --- mail: moto's SES backend ------------------------------------------------------------------


class _TimedList(list):
    """moto's ``sent_messages`` with the time each message was accepted."""

    def __init__(self, items: list[Any]) -> None:
        super().__init__(items)
        self.at: dict[str, datetime] = {}

    def append(self, item: Any) -> None:
        self.at[str(getattr(item, "id", ""))] = datetime.now(UTC)
        super().append(item)


@dataclass
class Mail:
    id: str
    at: datetime | None
    to: list[str]
    sender: str
    subject: str
    text: str | None = None
    html: str | None = None
    ics: str | None = None
    raw: bytes | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat() if self.at else None,
            "to": self.to,
            "from": self.sender,
            "subject": self.subject,
            "parts": [k for k in ("html", "text", "ics", "eml") if self.part(k) is not None],
        }

    def part(self, kind: str) -> str | bytes | None:
        return {"html": self.html, "text": self.text, "ics": self.ics, "eml": self.raw}.get(kind)


def _ses_backend(region: str) -> Any:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return ses_backends[DEFAULT_ACCOUNT_ID][region]


def _from_raw(m: Any, at: datetime | None) -> Mail:
    raw = m.raw_data.encode() if isinstance(m.raw_data, str) else m.raw_data
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    mail = Mail(
        id=m.id,
        at=at,
        to=list(dict.fromkeys(m.destinations or [])) or [str(msg["To"] or "")],
        sender=str(msg["From"] or m.source),
        subject=str(msg["Subject"] or ""),
        raw=raw,
    )
    for part in msg.walk():
        ctype = part.get_content_type()
        if part.is_multipart():
            continue
        if ctype == "text/plain" and mail.text is None and not part.get_filename():
            mail.text = part.get_content()
        elif ctype == "text/html" and mail.html is None:
            mail.html = part.get_content()
        elif ctype in ("text/calendar", "application/ics") and mail.ics is None:
            content = part.get_content()
            mail.ics = content.decode() if isinstance(content, bytes) else content
    return mail


def _from_plain(m: Any, at: datetime | None) -> Mail:
    dest = m.destinations if isinstance(m.destinations, dict) else {}
    to = [*dest.get("ToAddresses", []), *dest.get("CcAddresses", []), *dest.get("BccAddresses", [])]
    body = getattr(m, "body", None)
    if body is None:  # a templated send: show the template and its data
        body = f"template {getattr(m, 'template', '')}\n{getattr(m, 'template_data', '')}"
    is_html = body.lstrip()[:1] == "<"
    return Mail(
        id=m.id,
        at=at,
        to=to,
        sender=m.source,
        subject=getattr(m, "subject", None) or "",
        html=body if is_html else None,
        text=None if is_html else body,
    )


# --- WhatsApp: a Graph API stand-in ------------------------------------------------------------


@dataclass
class WhatsAppMessage:
    wamid: str
    at: datetime
    phone_number_id: str
    to: str
    type: str
    body: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        """One line for the page: the template with its parameters, or the text."""
        if self.type == "text":
            return str((self.body.get("text") or {}).get("body") or "")
        if self.type == "template":
            t = self.body.get("template") or {}
            params = [
                str(p.get("text") or p.get("payload") or "")
                for c in t.get("components") or []
                for p in c.get("parameters") or []
                if c.get("type") == "body"
            ]
            buttons = sum(1 for c in t.get("components") or [] if c.get("type") == "button")
            lang = (t.get("language") or {}).get("code", "")
            extra = f" + {buttons} quick-reply button(s)" if buttons else ""
            return f"{t.get('name', '')} [{lang}] ({' | '.join(params)}){extra}"
        return json.dumps(self.body, ensure_ascii=False)[:300]

    def summary(self) -> dict[str, Any]:
        return {
            "wamid": self.wamid,
            "at": self.at.isoformat(),
            "phone_number_id": self.phone_number_id,
            "to": self.to,
            "type": self.type,
            "summary": self.describe(),
            "body": self.body,
        }


def _graph_error(status: int, code: int, message: str) -> HttpResponse:
    # The Graph API's error shape (https://developers.facebook.com/docs/graph-api/guides/error-handling)
    doc = {
        "error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "local"}
    }
    return HttpResponse(status, {"Content-Type": "application/json"}, json.dumps(doc).encode())


def _json(status: int, doc: Any) -> HttpResponse:
    return HttpResponse(
        status, {"Content-Type": "application/json"}, json.dumps(doc, ensure_ascii=False).encode()
    )


# --- the outbox --------------------------------------------------------------------------------


class Outbox:
    def __init__(self, region: str) -> None:
        self.region = region
        self.whatsapp: list[WhatsAppMessage] = []
        self._lock = threading.Lock()
        self._seq = itertools.count(1)

    # mail

    def install(self) -> None:
        """Time-stamp what SES accepts from now on (moto keeps no time). Idempotent."""
        backend = _ses_backend(self.region)
        if not isinstance(backend.sent_messages, _TimedList):
            backend.sent_messages = _TimedList(backend.sent_messages)

    def mails(self) -> list[Mail]:
        self.install()
        sent = _ses_backend(self.region).sent_messages
        out = []
        for m in list(sent):
            at = sent.at.get(str(m.id))
            out.append(_from_raw(m, at) if hasattr(m, "raw_data") else _from_plain(m, at))
        return out[::-1]  # newest first

    # Graph API stand-in

    def graph(self, path: str, method: str, body: bytes) -> HttpResponse:
        parts = [p for p in path.split("?")[0][len(GRAPH) :].split("/") if p]
        # parts: [version, phone_number_id] or [version, phone_number_id, "messages"]
        if len(parts) < 2 or not re.fullmatch(r"v\d+\.\d+", parts[0]) or not parts[1].isdigit():
            return _graph_error(
                400,
                100,
                "Unsupported request: local stand-in knows /<version>/<phone_number_id>[/messages]",
            )
        pnid = parts[1]
        if method == "GET" and len(parts) == 2:
            return _json(
                200,
                {
                    "display_phone_number": "+34 600 000 000",
                    "verified_name": "Cúspide (local)",
                    "id": pnid,
                },
            )
        if method == "POST" and parts[2:] == ["messages"]:
            try:
                doc = json.loads(body or b"{}")
            except ValueError:
                return _graph_error(400, 100, "Invalid JSON")
            to, mtype = str(doc.get("to") or ""), str(doc.get("type") or "text")
            if doc.get("messaging_product") != "whatsapp" or not to.isdigit():
                return _graph_error(400, 100, "(#100) Invalid parameter")
            wamid = f"wamid.LOCAL{next(self._seq):06d}{uuid.uuid4().hex[:12].upper()}"
            with self._lock:
                self.whatsapp.append(
                    WhatsAppMessage(wamid, datetime.now(UTC), pnid, to, mtype, doc)
                )
            # The Cloud API's answer to a send: https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages
            return _json(
                200,
                {
                    "messaging_product": "whatsapp",
                    "contacts": [{"input": to, "wa_id": to}],
                    "messages": [{"id": wamid}],
                },
            )
        return _graph_error(400, 100, f"Unsupported {method} request")

    # HTTP

    def routes(self, extra: dict[str, Handler] | None = None) -> Routes:
        routes = Routes(extra or {})
        routes[OUTBOX] = lambda method, body: self.page(method)
        routes[OUTBOX + "/"] = lambda path, method, body: self.sub(path, method)
        routes[GRAPH + "/"] = lambda path, method, body: self.graph(path, method, body)
        return routes

    def listing(self) -> dict[str, Any]:
        with self._lock:
            wa = [w.summary() for w in reversed(self.whatsapp)]
        return {"mail": [m.summary() for m in self.mails()], "whatsapp": wa}

    def sub(self, path: str, method: str) -> HttpResponse:
        if method not in ("GET", "HEAD"):
            return HttpResponse(405, {"Content-Type": "text/plain"}, b"GET only")
        path = path.split("?")[0]
        if path == OUTBOX + "/messages.json":
            return _json(200, self.listing())
        m = re.fullmatch(re.escape(OUTBOX) + r"/mail/([A-Za-z0-9\-]+)/(html|text|ics|eml)", path)
        mail = next((x for x in self.mails() if m and x.id == m.group(1)), None)
        content = mail.part(m.group(2)) if mail and m else None
        if content is None:
            return HttpResponse(404, {"Content-Type": "text/plain"}, b"No such message or part")
        ctype, data = {
            "html": ("text/html; charset=utf-8", content),
            "text": ("text/plain; charset=utf-8", content),
            "ics": ("text/calendar; charset=utf-8", content),
            "eml": ("message/rfc822", content),
        }[m.group(2)]
        headers = {"Content-Type": ctype, "Cache-Control": "no-store"}
        if m.group(2) == "html":
            headers["Content-Security-Policy"] = MAIL_CSP
        if m.group(2) in ("ics", "eml"):
            headers["Content-Disposition"] = f'inline; filename="{mail.id}.{m.group(2)}"'
        return HttpResponse(200, headers, data if isinstance(data, bytes) else data.encode())

    def page(self, method: str) -> HttpResponse:
        if method not in ("GET", "HEAD"):
            return HttpResponse(405, {"Content-Type": "text/plain"}, b"GET only")
        e = html.escape
        mails = self.mails()
        rows = []
        for mail in mails:
            links = " ".join(
                f'<a href="{OUTBOX}/mail/{e(mail.id)}/{k}" target="_blank">{k.upper()}</a>'
                for k in ("html", "text", "ics", "eml")
                if mail.part(k) is not None
            )
            shown = (
                f'<iframe sandbox srcdoc="{e(mail.html)}"></iframe>'
                if mail.html
                else f"<pre>{e(mail.text or '')}</pre>"
            )
            calendar = " 📅" if mail.ics else ""
            rows.append(
                f"<tr><td>{e(_when(mail.at))}</td><td>{e(', '.join(mail.to))}</td>"
                f"<td>{e(mail.subject)}{calendar}<details><summary>show</summary>{shown}</details>"
                f"</td><td>{links}</td></tr>"
            )
        with self._lock:
            wa = list(reversed(self.whatsapp))
        wa_rows = [
            f"<tr><td>{e(_when(w.at))}</td><td>+{e(w.to)}</td><td>{e(w.phone_number_id)}</td>"
            f"<td>{e(w.type)}</td><td>{e(w.describe())}</td><td><code>{e(w.wamid)}</code></td></tr>"
            for w in wa
        ]
        empty = "<tr><td colspan='6'><i>Nothing yet.</i></td></tr>"
        doc = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Outbox · Cúspide (local)</title>
<style>body{{font-family:system-ui,sans-serif;margin:24px;color:#171717}}
table{{border-collapse:collapse;width:100%;margin-bottom:28px}}
th,td{{text-align:left;padding:6px 10px;border-bottom:1px solid #e5e5e5;vertical-align:top}}
th{{background:#f5f5f5}} iframe{{width:100%;height:480px;border:1px solid #ddd}}
pre{{white-space:pre-wrap}} .muted{{color:#737373}}</style></head><body>
<h1>Developer outbox</h1>
<p class="muted">Local stack only. Mail accepted by the embedded SES (moto) and WhatsApp messages
sent to the local Graph API stand-in ({e(GRAPH)}), newest first, since the stack started.
Nothing here left this machine. <a href="{OUTBOX}/messages.json">JSON</a></p>
<h2>Mail ({len(mails)})</h2>
<table><tr><th>time (UTC)</th><th>to</th><th>subject</th><th>view</th></tr>
{"".join(rows) or empty}</table>
<h2>WhatsApp ({len(wa)})</h2>
<table><tr><th>time (UTC)</th><th>to</th><th>from phone_number_id</th><th>type</th>
<th>message</th><th>wamid</th></tr>{"".join(wa_rows) or empty}</table>
</body></html>"""
        return HttpResponse(
            200,
            {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"},
            doc.encode(),
        )


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S") if at else "—"
