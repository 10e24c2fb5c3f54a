"""Every billing route: 401 without a token, 403 for a role without the permission, 422 on a
bad body; role defaults (receptionist can issue and take payments, hygienist cannot)."""

from __future__ import annotations

import re

from chalicelib.billing.routes import router
from chalicelib.core.api import PUBLIC

FAKE = "01JZZZZZZZZZZZZZZZZZZZZZZZ"


def _path(p: str) -> str:
    return re.sub(r"\{[^}]+\}", FAKE, p)


def test_every_billing_route_401_403_422(api, clinic):
    from tests.integration.conftest import add_member

    member = add_member(api, clinic, "assistant")  # no billing permission by default
    staff = [s for s in router.specs if s.permission != PUBLIC]
    assert len(staff) >= 25
    for s in staff:
        r = api.request(s.method, _path(s.path), {} if s.body else None)
        assert r.status == 401, (s.method, s.path)
        r = api.request(s.method, _path(s.path), {} if s.body else None, token=member["token"])
        assert r.status == 403, (s.method, s.path, r.status)
        assert r.json()["data"]["permission"] == s.permission
        if s.body is not None:
            r = api.request(s.method, _path(s.path), {"unexpected": 1}, token=clinic.admin_token)
            assert r.status == 422, (s.method, s.path, r.status)


def test_role_defaults(billing, api, receptionist, hygienist):
    pid = billing.patient()
    limp = billing.treatment("LIM", "60.00")
    inv = billing.invoice(pid, [{"treatment_id": limp}])
    r = api.post(f"/billing/invoices/{inv['invoice_id']}/issue", token=hygienist["token"])
    assert r.status == 403
    assert api.get("/billing/treatments", token=hygienist["token"]).status == 200
    r = api.post(f"/billing/invoices/{inv['invoice_id']}/issue", token=receptionist["token"])
    assert r.status == 200
    r = api.post(
        f"/billing/invoices/{inv['invoice_id']}/payments",
        {"amount": "60", "method": "cash"},
        token=receptionist["token"],
    )
    assert r.status == 201 and r.json()["data"]["invoice"]["status"] == "paid"
