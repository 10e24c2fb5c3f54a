from __future__ import annotations

import io
from urllib.parse import urlencode

from pypdf import PdfReader

from tests.integration.billing.signatures import DRAWN

PNG = DRAWN


def _sent(billing, lang="es"):
    pid = billing.patient(language=lang)
    lines = [
        {"treatment_id": billing.treatment("LIM", "60.00")},
        {"treatment_id": billing.treatment("BLQ", "300.00", vat="IVA21")},
    ]
    d = billing.budget(pid, lines)
    s = billing.post(f"/billing/budgets/{d['budget_id']}/send", {"valid_days": 7})
    path = s["link"].split("/api/v1", 1)[1]
    return d, path


def _form(api, path, **fields):
    raw = urlencode(fields, doseq=True).encode()
    return api.request(
        "POST", path, raw=raw, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )


def test_get_shows_budget_and_changes_nothing(billing, api):
    d, path = _sent(billing)
    for _ in range(3):  # prefetchers and scanners
        r = api.get(path)
        assert r.status == 200 and r.headers["Content-Type"].startswith("text/html")
        assert r.headers["Referrer-Policy"] == "no-referrer"
        html = r.body.decode()
        assert d["number"] in html and "Acepto el presupuesto" in html and "Clínica Uno" in html
    assert billing.get(f"/billing/budgets/{d['budget_id']}")["status"] == "sent"
    r = api.get(path + "/pdf", headers={"Accept": "application/pdf"})
    assert r.status == 200
    assert d["number"] in PdfReader(io.BytesIO(r.body)).pages[0].extract_text()


def test_english_patient_gets_english_page(billing, api):
    _, path = _sent(billing, "en")
    assert "I accept the estimate" in api.get(path).body.decode()


def test_accept_partially_records_evidence_and_link_is_single_use(billing, api):
    d, path = _sent(billing)
    html = api.get(path).body.decode()
    digest = html.split('name="pdf_sha256" value="')[1].split('"')[0]
    r = _form(
        api,
        path,
        signer_name="María Pérez",
        relationship="madre",
        signature=PNG,
        line_ids=[d["lines"][0]["line_id"]],
        pdf_sha256=digest,
    )
    assert r.status == 200, r.body
    assert "Presupuesto aceptado" in r.body.decode()
    b = billing.get(f"/billing/budgets/{d['budget_id']}")
    assert b["status"] == "accepted" and b["partial"] is True
    acc = b["acceptance"]
    assert acc["signer_name"] == "María Pérez" and acc["relationship"] == "madre"
    assert acc["channel"] == "link" and acc["ip"] == api.ip and acc["user_agent"] == "pytest"
    assert acc["pdf_sha256"] == digest and acc["has_signature"] is True
    assert acc["accepted_line_ids"] == [d["lines"][0]["line_id"]]
    r = _form(api, path, signer_name="Otra", signature=PNG)
    assert r.status == 410 and "ya se ha utilizado" in r.body.decode()
    assert api.get(path).status == 410


def test_tampered_malformed_expired_links_are_clear_pages(billing, api):
    d, path = _sent(billing)
    token = path.rsplit("/", 1)[1]
    link_id, action, bid, exp, kid, sig = token.split(".")
    assert action == "accept"
    tampered = [
        f"{link_id}.{action}.{bid}.{int(exp) + 86400}.{kid}.{sig}",
        f"{link_id}.{action}.{bid}.{exp}.{kid}.{sig[:-2]}AA",
        f"{link_id}.{action}.01JZZZZZZZZZZZZZZZZZZZZZZZ.{exp}.{kid}.{sig}",
        "garbage",
        "a.b.c.d.e.f",
        "x" * 400,
    ]
    for bad in tampered:
        r = api.get(f"/public/budgets/{bad}")
        assert r.status == 404, (bad, r.status)
        assert "no es válido" in r.body.decode()
        r = _form(api, f"/public/budgets/{bad}", signer_name="X Y", signature=PNG)
        assert r.status == 404
    from chalicelib.billing.budgets import LINKS

    expired = LINKS.sign(link_id, "accept", bid, 1_000_000)
    r = api.get(f"/public/budgets/{expired}")
    assert r.status == 410 and "caducado" in r.body.decode()
    assert billing.get(f"/billing/budgets/{d['budget_id']}")["status"] == "sent"


def test_form_errors_and_changed_budget(billing, api):
    d, path = _sent(billing)
    r = _form(api, path, signer_name="Ana Ruiz", signature="")
    assert r.status == 422 and "firme" in r.body.decode()
    r = _form(api, path, signer_name="Ana Ruiz", signature="<svg onload=x>")
    assert r.status == 422
    every = [ln["line_id"] for ln in d["lines"]]
    r = _form(api, path, signer_name="Ana Ruiz", signature=PNG, pdf_sha256="0" * 64, line_ids=every)
    assert r.status == 409
    r = _form(api, path, signer_name="Ana Ruiz", signature="M10 10 L20 20 L30 15", line_ids=every)
    assert r.status == 200
    assert billing.get(f"/billing/budgets/{d['budget_id']}")["acceptance"]["has_signature"]


def test_superseded_budget_link_is_unavailable(billing, api):
    d, path = _sent(billing)
    billing.post(f"/billing/budgets/{d['budget_id']}/revise", None, 201)
    r = api.get(path)
    assert r.status == 410 and "ya no está disponible" in r.body.decode()


def test_public_page_is_rate_limited_per_address(billing, api):
    from chalicelib.billing import public

    _, path = _sent(billing)
    ip = "10.250.1.1"
    for _ in range(public.POSTS_PER_IP_PER_HOUR):
        _form_ip = api.request(
            "POST",
            path,
            raw=b"signer_name=",
            ip=ip,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert _form_ip.status == 422
    r = api.request(
        "POST",
        path,
        raw=b"signer_name=",
        ip=ip,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status == 429


def test_deeply_nested_json_to_the_budget_page_is_refused_not_a_500(billing, api):
    d, path = _sent(billing)
    for raw in (b"[" * 1000 + b"]" * 1000, b'{"signer_name":' * 40 + b'"X"' + b"}" * 40):
        r = api.request("POST", path, raw=raw, headers={"Content-Type": "application/json"})
        assert 400 <= r.status < 500, r.status
        assert r.headers["Content-Type"].startswith("text/html")
    assert billing.get(f"/billing/budgets/{d['budget_id']}")["status"] == "sent"


def test_the_budget_link_runs_with_its_clinics_credentials(billing, api, clinic, scoped_as):
    """ADR 0012: once the link's global lookup names its clinic, the page, the PDF and the
    acceptance read and write with that clinic's credentials only."""
    d, path = _sent(billing)
    scoped_as.clear()
    assert api.get(path).status == 200
    assert api.get(path + "/pdf", headers={"Accept": "application/pdf"}).status == 200
    html = api.get(path).body.decode()
    digest = html.split('name="pdf_sha256" value="')[1].split('"')[0]
    r = _form(
        api,
        path,
        signer_name="Ana Pérez",
        signature=PNG,
        pdf_sha256=digest,
        line_ids=[ln["line_id"] for ln in d["lines"]],
    )
    assert r.status == 200, r.body
    assert scoped_as and set(scoped_as) == {clinic.clinic_id}
    assert billing.get(f"/billing/budgets/{d['budget_id']}")["status"] == "accepted"
