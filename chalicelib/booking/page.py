"""The clinic's public booking page (HTML served by the API; ADR 1403).

``GET /public/booking/{clinic_id}`` shows a step and changes nothing: the types, then a week of
free slots (``?type=&week=``), then, for a chosen ``start``, the identification form (or, with a
valid ``?invite=``, the confirmation). Every ``POST`` to the same address acts, by its ``step``:
``send_code`` (after the proof of work) -> ``verify`` -> ``register`` (new patient) or ``book``.
State rides in the forms' hidden fields; who the patient is rides in a signed session token or
the invitation, both verified on every POST. Every problem is a page with a 4xx, never a 5xx;
rate limits count per client address and per clinic before anything else (ADR 1402).
"""

from __future__ import annotations

import math
import re
import secrets
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from chalice import Response

from chalicelib.booking import abuse, service
from chalicelib.booking.text import TEXT, WEEKDAY_SHORT
from chalicelib.comms import templates
from chalicelib.core import htmlpage, i18n, scoping
from chalicelib.core.errors import TooManyRequests
from chalicelib.core.htmlpage import esc as _e
from chalicelib.core.ids import new_id
from chalicelib.core.links import InvalidLink
from chalicelib.core.observability import logger

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$")
FIELDS = (
    "step", "lang", "type", "start", "ref", "invite", "session", "code_id", "code", "email",
    "pow", "pow_nonce", "website", "first_name", "last_name", "date_of_birth", "phone",
    "privacy", "email_consent",
)  # fmt: skip
CLOSED_STATUS = {"unknown": 404, "off": 403}


class Page(Exception):  # noqa: N818 - an answer, not an error
    def __init__(self, body: str, status: int = 200, retry_after: int | None = None) -> None:
        super().__init__(status)
        self.body, self.status, self.retry_after = body, status, retry_after


def lang_of(asked: str | None, accept: str | None) -> str:
    if asked in ("es", "en"):
        return asked
    return i18n.negotiate(accept) if i18n.negotiate(accept) in ("es", "en") else "es"


class View:
    """One request's rendering state: the clinic, the language and the carried parameters."""

    def __init__(self, clinic_id: str, lang: str) -> None:
        self.clinic_id, self.lang, self.t = clinic_id, lang, TEXT[lang]
        self.ctx: service.Context | None = None
        self.nonce = ""
        self.keep: dict[str, str] = {}

    # --- shell ----------------------------------------------------------------------------

    def url(self, **params: str | None) -> str:
        q = {**self.keep, "lang": self.lang, **params}
        q = {k: v for k, v in q.items() if v}
        return f"/api/v1/public/booking/{self.clinic_id}?{urlencode(q)}"

    def hidden(self, **extra: str | None) -> str:
        fields = {**self.keep, "lang": self.lang, **extra}
        return "".join(
            f'<input type="hidden" name="{_e(k)}" value="{_e(v)}">' for k, v in fields.items() if v
        )

    def frame_ancestors(self) -> str:
        origins = list(self.ctx.settings.embed_origins or []) if self.ctx else []
        return " ".join(origins) if origins else "'none'"

    def response(self, body: str, status: int = 200, script: str = "") -> Response:
        brand = templates.Brand.of(self.ctx.clinic) if self.ctx else templates.Brand("Cúspide")
        other = "en" if self.lang == "es" else "es"
        lang_link = (
            f'<a class="lang" href="{_e(self.url(lang=other))}" lang="{other}">'
            f"{_e(self.t['lang_other'])}</a>"
            if self.ctx
            else ""
        )
        js = f'<script nonce="{self.nonce}">{script}</script>' if script else ""
        colour = brand.colour if re.fullmatch(r"#[0-9A-Fa-f]{6}", brand.colour or "") else "#0f766e"
        doc = f"""<!doctype html><html lang="{self.lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><meta name="robots" content="noindex, nofollow">
<link rel="icon" href="data:,"><title>{_e(self.t["title"])} · {_e(brand.name)}</title><style>
*{{box-sizing:border-box}}
body{{font-family:system-ui,sans-serif;margin:0;color:#171717;background:#fafafa;line-height:1.45}}
header{{background:{colour};color:#fff;padding:14px 16px;display:flex;align-items:center;
justify-content:space-between;gap:8px}}
header .name{{font-size:19px;font-weight:600}} header a{{color:#fff}}
main{{max-width:640px;margin:0 auto;padding:16px}}
h1{{font-size:22px;margin:8px 0 12px}} h2{{font-size:17px;margin:14px 0 6px}}
.box{{background:#fff;border:1px solid #d4d4d4;border-radius:8px;padding:14px;margin:12px 0}}
.types a,.slots a,.btn,button{{display:inline-block;background:{colour};color:#fff;border:0;
border-radius:6px;padding:12px 16px;font-size:16px;text-decoration:none;margin:4px 6px 4px 0;
min-height:44px;cursor:pointer}}
.types a{{display:block}}
.slots a{{padding:10px 12px;min-width:72px;text-align:center}}
a.plain{{background:none;color:#1d4ed8;padding:8px 0;text-decoration:underline}}
a:focus-visible,button:focus-visible,input:focus-visible{{outline:3px solid #1d4ed8;
outline-offset:2px}}
label{{display:block;font-weight:600;margin:10px 0 4px}}
label.check{{font-weight:400;display:flex;gap:8px;align-items:flex-start}}
input[type=text],input[type=email],input[type=tel],input[type=date]{{width:100%;
font-size:16px;padding:10px;border:1px solid #737373;border-radius:6px}}
input[type=checkbox]{{width:22px;height:22px;flex:none}}
.err{{color:#b91c1c;font-weight:600}} .ok{{color:#166534}}
.hp{{position:absolute;left:-9999px;width:1px;height:1px;overflow:hidden}}
td{{padding:4px 12px 4px 0;vertical-align:top}}</style></head>
<body><header><span class="name">{_e(brand.name)}</span>{lang_link}</header>
<main id="main">{body}</main>{js}</body></html>"""
        return htmlpage.response(
            doc, status=status, nonce=self.nonce, frame_ancestors=self.frame_ancestors()
        )

    def box(self, text: str, cls: str = "") -> str:
        return f"<div class='box {cls}' role='status'><p>{_e(text)}</p></div>"

    def message(self, key: str, status: int, **fmt: Any) -> Page:
        text = self.t[key].format(**fmt)
        back = (
            f"<p><a class='plain' href='{_e(self.url())}'>{_e(self.t['start_again'])}</a></p>"
            if self.ctx
            else ""
        )
        return Page(f"<h1>{_e(self.t['title'])}</h1>{self.box(text)}{back}", status)

    # --- steps ----------------------------------------------------------------------------

    def type_name(self, t: dict[str, Any]) -> str:
        return str(t["name_en"] if self.lang == "en" else t["name_es"])

    def types_step(self, notice: str = "") -> str:
        assert self.ctx is not None
        items = "".join(
            f"<li><a href='{_e(self.url(type=t['type_id']))}'>{_e(self.type_name(t))} · "
            f"{int(t['duration_min'])} {_e(self.t['minutes'])}</a></li>"
            for t in self.ctx.types()
        )
        return (
            f"<h1>{_e(self.t['title'])}</h1>{notice}<h2>{_e(self.t['step_type'])}</h2>"
            f"<ul class='types' style='list-style:none;padding:0'>{items}</ul>"
        )

    def week_step(self, t: dict[str, Any], week: str | None, notice: str = "") -> str:
        ctx = self.ctx
        assert ctx is not None
        today = ctx.today()
        try:
            first = max(date.fromisoformat(week or ""), today)
        except ValueError:
            first = today
        first = min(first, ctx.last_day())
        found = service.free_days(ctx, t, first, 7)
        days = []
        for day, slots in found.items():
            label = f"{WEEKDAY_SHORT[self.lang][day.weekday()]} {day.day:02d}/{day.month:02d}"
            if slots:
                links = "".join(
                    f"<a href='{_e(self.url(type=t['type_id'], start=_hm(s.start)))}'"
                    f" aria-label='{_e(label)} {s.start:%H:%M}'>{s.start:%H:%M}</a>"
                    for s in slots
                )
                inner = f"<div class='slots'>{links}</div>"
            else:
                inner = f"<p>{_e(self.t['no_slots'])}</p>"
            days.append(f"<div class='box day'><h2>{_e(label)}</h2>{inner}</div>")
        nav = []
        if first > today:
            prev = max(first - timedelta(days=7), today)
            nav.append(
                f"<a class='plain' href='{_e(self.url(type=t['type_id'], week=prev.isoformat()))}'>"
                f"← {_e(self.t['prev'])}</a>"
            )
        nxt = first + timedelta(days=7)
        if nxt <= ctx.last_day():
            nav.append(
                f"<a class='plain' href='{_e(self.url(type=t['type_id'], week=nxt.isoformat()))}'>"
                f"{_e(self.t['next'])} →</a>"
            )
        change = (
            f"<p><a class='plain' href='{_e(self.url())}'>{_e(self.t['change_type'])}</a></p>"
            if len(ctx.types()) > 1
            else ""
        )
        return (
            f"<h1>{_e(self.t['title'])}</h1>{notice}<h2>{_e(self.type_name(t))} · "
            f"{_e(self.t['step_slot'])}</h2>{change}{''.join(days)}"
            f"<nav aria-label='{_e(self.t['step_slot'])}' style='display:flex;gap:16px'>"
            f"{''.join(nav)}</nav>"
        )

    def summary(self, t: dict[str, Any], start: datetime) -> str:
        rows = [
            (self.t["type"], self.type_name(t)),
            (self.t["when"], templates.when(start, self.lang)),
        ]
        table = "".join(f"<tr><td>{_e(k)}</td><td><b>{_e(v)}</b></td></tr>" for k, v in rows)
        back = self.url(type=t["type_id"], week=start.date().isoformat())
        return (
            f"<div class='box'><table>{table}</table><p><a class='plain' href='{_e(back)}'>"
            f"{_e(self.t['change_slot'])}</a></p></div>"
        )

    def identify_step(
        self, t: dict[str, Any], start: datetime, notice: str = "", email: str = ""
    ) -> tuple[str, str]:
        assert self.ctx is not None
        self.nonce = secrets.token_urlsafe(16)
        challenge = abuse.challenge()
        form = (
            f"<form id='idform' method='post' action='{_e(self.url())}' novalidate>"
            f"{self.hidden(step='send_code', type=t['type_id'], start=_hm(start), pow=challenge)}"
            "<input type='hidden' name='pow_nonce' value=''>"
            f"<label for='email'>{_e(self.t['email'])}</label>"
            f"<input type='email' id='email' name='email' autocomplete='email' required "
            f"value='{_e(email)}'>"
            "<div class='hp' aria-hidden='true'><label for='website'>Website</label>"
            "<input type='text' id='website' name='website' tabindex='-1' autocomplete='off'></div>"
            f"<p id='powstatus' role='status' aria-live='polite'></p>"
            f"<button type='submit'>{_e(self.t['send_code'])}</button>"
            f"<noscript><p class='err'>{_e(self.t['needs_js'])}</p></noscript></form>"
        )
        body = (
            f"<h1>{_e(self.t['step_identify'])}</h1>{notice}{self.summary(t, start)}"
            f"<div class='box'><p>{_e(self.t['identify_help'])}</p>{form}</div>"
        )
        script = (
            POW_JS.replace("__CID__", self.ctx.clinic_id)
            .replace("__BITS__", str(abuse.POW_BITS))
            .replace("__WORKING__", self.t["working"].replace("'", ""))
        )
        return body, script

    def code_step(self, t: dict[str, Any], start: datetime, code_id: str, notice: str = "") -> str:
        return (
            f"<h1>{_e(self.t['step_identify'])}</h1>{self.summary(t, start)}"
            f"{notice or self.box(self.t['code_sent'], 'ok')}"
            f"<form class='box' method='post' action='{_e(self.url())}'>"
            f"{self.hidden(step='verify', type=t['type_id'], start=_hm(start), code_id=code_id)}"
            f"<label for='code'>{_e(self.t['code'])}</label>"
            "<input type='text' id='code' name='code' inputmode='numeric' pattern='[0-9]{6}' "
            "maxlength='6' autocomplete='one-time-code' required autofocus>"
            f"<button type='submit'>{_e(self.t['verify'])}</button></form>"
            f"<p><a class='plain' href='{_e(self.url(type=t['type_id'], start=_hm(start)))}'>"
            f"{_e(self.t['new_code'])}</a></p>"
        )

    def confirm_step(
        self, t: dict[str, Any], start: datetime, who: dict[str, str], notice: str = ""
    ) -> str:
        return (
            f"<h1>{_e(self.t['confirm'])}</h1>{notice}{self.summary(t, start)}"
            f"<form method='post' action='{_e(self.url())}'>"
            f"{self.hidden(step='book', type=t['type_id'], start=_hm(start), **who)}"
            f"<button type='submit'>{_e(self.t['book'])}</button></form>"
        )

    def register_step(
        self,
        t: dict[str, Any],
        start: datetime,
        session: str,
        form: dict[str, str],
        errors: list[str],
    ) -> str:
        def field(
            name: str, label: str, kind: str = "text", auto: str = "", req: bool = True
        ) -> str:
            return (
                f"<label for='{name}'>{_e(label)}</label><input type='{kind}' id='{name}' "
                f"name='{name}' value='{_e(form.get(name, ''))}'"
                + (" required" if req else "")
                + (f" autocomplete='{auto}'" if auto else "")
                + ">"
            )

        err = (
            f"<div class='box err' role='alert'><p>{_e(self.t['form_errors'])}</p><ul>"
            + "".join(f"<li>{_e(e)}</li>" for e in errors)
            + "</ul></div>"
            if errors
            else ""
        )
        return (
            f"<h1>{_e(self.t['register'])}</h1>{self.summary(t, start)}{err}"
            f"<form class='box' method='post' action='{_e(self.url())}'>"
            f"<p>{_e(self.t['register_help'])}</p>"
            f"{self.hidden(step='register', type=t['type_id'], start=_hm(start), session=session)}"
            f"{field('first_name', self.t['first_name'], auto='given-name')}"
            f"{field('last_name', self.t['last_name'], auto='family-name')}"
            f"{field('date_of_birth', self.t['dob'], 'date', 'bday')}"
            f"{field('phone', self.t['phone'], 'tel', 'tel', req=False)}"
            "<label class='check'><input type='checkbox' id='privacy' name='privacy' value='yes' "
            f"required><span>{_e(self.t['privacy'].format(version=service.PRIVACY_VERSION))}</span></label>"
            "<label class='check'><input type='checkbox' id='email_consent' name='email_consent' "
            f"value='yes' checked><span>{_e(self.t['email_consent'])}</span></label>"
            f"<button type='submit'>{_e(self.t['book'])}</button></form>"
        )

    def done_step(self, t: dict[str, Any], out: Any) -> str:
        rows = [
            (self.t["type"], self.type_name(t)),
            (self.t["when"], templates.when(out.start, self.lang)),
        ]
        if out.professional_name:
            rows.append((self.t["with"], out.professional_name))
        table = "".join(f"<tr><td>{_e(k)}</td><td><b>{_e(v)}</b></td></tr>" for k, v in rows)
        return (
            f"<h1>{_e(self.t['done'])}</h1><div class='box' role='status'><table>{table}</table>"
            f"<p>{_e(self.t['done_help'])}</p></div>"
        )


POW_JS = (Path(__file__).parent / "static" / "pow.js").read_text()


def _hm(start: datetime) -> str:
    return start.strftime("%Y-%m-%dT%H:%M")


def _minutes(exc: TooManyRequests) -> int:
    return max(1, math.ceil(exc.retry_after / 60))


def _too_many(v: View, exc: TooManyRequests) -> Response:
    p = v.message("too_many", 429, minutes=_minutes(exc))
    resp = v.response(p.body, 429)
    resp.headers["Retry-After"] = str(max(1, exc.retry_after))
    return resp


def _open(v: View, clinic_id: str) -> None:
    """Adopt the clinic and load its page context (a :class:`Page` when it cannot be shown)."""
    if not scoping.is_plain_id(clinic_id):
        raise v.message("unknown", 404)
    scoping.adopt(clinic_id)
    try:
        v.ctx = service.context(clinic_id)
    except service.Closed as exc:
        raise v.message(exc.reason, CLOSED_STATUS[exc.reason]) from exc


def _invited(v: View, invite: str | None) -> tuple[service.Who | None, str]:
    if not invite:
        return None, ""
    assert v.ctx is not None
    try:
        who = service.from_invite(v.ctx, invite[:300])
    except InvalidLink:
        v.keep.pop("invite", None)
        v.keep.pop("ref", None)
        return None, v.box(v.t["invite_bad"], "err")
    return who, ""


def _chosen(
    v: View, type_id: str | None, start: str | None
) -> tuple[dict[str, Any] | None, datetime | None]:
    assert v.ctx is not None
    types = v.ctx.types()
    t = v.ctx.type(type_id) or (types[0] if len(types) == 1 else None)
    when = service.parse_start(v.ctx, start) if t and start else None
    return t, when


def view(clinic_id: str, q: dict[str, str], accept: str | None, ip: str | None) -> Response:
    v = View(clinic_id, lang_of(q.get("lang"), accept))
    try:
        abuse.limit("view-ip", ip or "")
        abuse.limit("view-clinic", clinic_id)
        _open(v, clinic_id)
        assert v.ctx is not None
        v.keep = {k: q[k][:300] for k in ("invite", "ref") if q.get(k)}
        who, notice = _invited(v, v.keep.get("invite"))
        if who is not None:
            p = service.patients.load(v.ctx.clinic_id, who.patient_id or "")
            notice = v.box(v.t["invited"].format(name=p.first_name), "ok")
        t, start = _chosen(v, q.get("type"), q.get("start"))
        if t is None:
            return v.response(v.types_step(notice))
        if start is None or not service.offered(v.ctx, t, start):
            notice += v.box(v.t["gone"], "err") if q.get("start") else ""
            return v.response(v.week_step(t, q.get("week"), notice))
        if who is not None:
            return v.response(v.confirm_step(t, start, {}, notice))
        body, script = v.identify_step(t, start, notice)
        return v.response(body, script=script)
    except TooManyRequests as exc:
        return _too_many(v, exc)
    except Page as p:
        return v.response(p.body, p.status)
    except Exception:  # noqa: BLE001 - a public page never answers 5xx
        logger.exception("booking page failed")
        p = v.message("error", 503)
        return v.response(p.body, 503)


def parse_form(raw: bytes) -> dict[str, str]:
    try:
        parsed = parse_qs(raw[:20000].decode("utf-8", "replace"), keep_blank_values=True)
    except ValueError:
        return {}
    return {k: vals[0][:300].strip() for k, vals in parsed.items() if k in FIELDS and vals}


def act(clinic_id: str, raw: bytes, accept: str | None, ip: str | None, ua: str | None) -> Response:
    form = parse_form(raw)
    v = View(clinic_id, lang_of(form.get("lang"), accept))
    try:
        abuse.limit("post-ip", ip or "")
        abuse.limit("post-clinic", clinic_id)
        _open(v, clinic_id)
        return _act(v, form, ip, ua)
    except TooManyRequests as exc:
        return _too_many(v, exc)
    except Page as p:
        return v.response(p.body, p.status)
    except Exception:  # noqa: BLE001 - a public page never answers 5xx
        logger.exception("booking action failed")
        p = v.message("error", 503)
        return v.response(p.body, 503)


def _act(v: View, form: dict[str, str], ip: str | None, ua: str | None) -> Response:
    ctx = v.ctx
    assert ctx is not None
    v.keep = {k: form[k] for k in ("invite", "ref") if form.get(k)}
    t, start = _chosen(v, form.get("type"), form.get("start"))
    if t is None:
        return v.response(v.types_step(), 400)
    if start is None:
        return v.response(v.week_step(t, None, v.box(v.t["gone"], "err")), 400)
    step = form.get("step")
    if step == "send_code":
        abuse.limit("code-ip", ip or "")
        abuse.limit("code-clinic", ctx.clinic_id)
        email = form.get("email", "")
        if form.get("website"):  # the honeypot: a person never fills it
            return v.response(v.code_step(t, start, new_id()), 200)
        if not EMAIL.fullmatch(email):
            body, script = v.identify_step(t, start, v.box(v.t["bad_email"], "err"), email)
            return v.response(body, 422, script)
        abuse.limit("code-contact", f"{ctx.clinic_id}:{email.lower()}")
        try:
            abuse.spend(ctx.clinic_id, form.get("pow", ""), form.get("pow_nonce", ""))
        except abuse.PowProblem:
            body, script = v.identify_step(t, start, v.box(v.t["pow_failed"], "err"), email)
            return v.response(body, 400, script)
        code_id = service.send_code(ctx, email, v.lang)
        return v.response(v.code_step(t, start, code_id))
    if step == "verify":
        abuse.limit("verify-ip", ip or "")
        code_id = form.get("code_id", "")
        try:
            session = service.verify_code(ctx, code_id, form.get("code", ""))
        except service.CodeProblem as exc:
            if exc.reason == "wrong":
                notice = v.box(v.t["wrong"].format(left=exc.left), "err")
                return v.response(v.code_step(t, start, code_id, notice), 422)
            body, script = v.identify_step(t, start, v.box(v.t["code_expired"], "err"))
            return v.response(body, 410, script)
        who = service.from_session(ctx, session)
        if who.patient_id:
            return v.response(v.confirm_step(t, start, {"session": session}))
        return v.response(v.register_step(t, start, session, {}, []))
    if step in ("register", "book"):
        abuse.limit("book-ip", ip or "")
        abuse.limit("book-clinic", ctx.clinic_id)
        principal = service.online_principal(ctx.clinic, ip, ua)
        ref = None
        if form.get("invite"):
            try:
                who = service.from_invite(ctx, form["invite"])
            except InvalidLink:
                body, script = v.identify_step(t, start, v.box(v.t["invite_bad"], "err"))
                return v.response(body, 410, script)
            ref = form.get("ref")
        else:
            try:
                who = service.from_session(ctx, form.get("session", ""))
            except service.CodeProblem:
                body, script = v.identify_step(t, start, v.box(v.t["code_expired"], "err"))
                return v.response(body, 410, script)
        pid = who.patient_id
        if pid is None:
            if step != "register" or who.code_id is None:
                body, script = v.identify_step(t, start, v.box(v.t["code_expired"], "err"))
                return v.response(body, 410, script)
            try:
                pid = service.register(ctx, principal, who.code_id, form, v.lang)
            except service.Refused as exc:
                errors = [_problem(v, e) for e in exc.errors]
                return v.response(
                    v.register_step(t, start, form.get("session", ""), form, errors), 422
                )
        try:
            out = service.book(ctx, principal, pid, t, start, ref)
        except service.Refused as exc:
            key = exc.reason if exc.reason in ("taken", "gone", "patient_busy") else "cap"
            status = 429 if key == "cap" else 409
            notice = v.box(v.t[key].format(n=int(ctx.settings.max_pending or 2)), "err")
            if key == "cap":
                return v.response(f"<h1>{_e(v.t['title'])}</h1>{notice}", status)
            return v.response(v.week_step(t, start.date().isoformat(), notice), status)
        return v.response(v.done_step(t, out), 201)
    return v.response(v.week_step(t, None), 400)


def _problem(v: View, e: dict[str, str]) -> str:
    if e["field"] == "privacy":
        return v.t["privacy_required"]
    if e["field"] == "legal_guardian":
        return v.t["minor"]
    return f"{_label(v, e['field'])}: {v.t[e.get('problem', 'not_valid')]}"


def _label(v: View, field: str) -> str:
    names = {"date_of_birth": "dob"}
    return v.t.get(names.get(field, field), field)
