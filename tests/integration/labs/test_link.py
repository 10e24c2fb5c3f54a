"""The lab's signed link: mail, page, the lab's moves and uploads, and every bad token."""

from __future__ import annotations

from datetime import timedelta

import requests

from tests.integration.labs.conftest import mailed_token, token_of


def _sent(labs, email="orders@lab-sur.example"):
    pid = labs.patient(first_name="Lucía", last_name="Marín")
    lab = labs.lab(email=email)
    c = labs.case(pid, lab["lab_id"])
    out = labs.send(c["case_id"])
    return c["case_id"], out


def test_send_emails_the_lab_a_link_and_the_page_shows_minimal_phi(api, labs, clinic):
    cid, out = _sent(labs, "lab1@lab-sur.example")
    assert out["emailed_to"] == "lab1@lab-sur.example" and out["case"]["status"] == "sent"
    assert out["case"]["link_active"]
    token = mailed_token("lab1@lab-sur.example")
    assert token == token_of(out["link"])
    r = api.get(f"/public/lab-cases/{token}")
    assert r.status == 200 and r.headers["Content-Type"].startswith("text/html")
    page = r.body.decode()
    assert "L. M." in page and "Lucía" not in page and "Marín" not in page
    assert "Zirconia" in page and "36" in page and "in_progress" in page
    # GET changed nothing
    assert labs.call("get", f"/labs/cases/{cid}")["status"] == "sent"


def test_lab_moves_are_its_own_and_audited_as_the_lab(api, labs, clinic, published):
    cid, out = _sent(labs, "lab2@lab-sur.example")
    token = token_of(out["link"])
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    r = api.post(f"/public/lab-cases/{token}/status", raw=b"status=shipped", headers=form)
    assert r.status == 409  # sent -> shipped is not a move
    r = api.post(f"/public/lab-cases/{token}/status", raw=b"status=received", headers=form)
    assert r.status == 422  # not one of the lab's moves
    r = api.post(
        f"/public/lab-cases/{token}/status", raw=b"status=in_progress&note=ok", headers=form
    )
    assert r.status == 303 and r.headers["Location"] == f"../{token}"
    r = api.post(
        f"/public/lab-cases/{token}/delivery", raw=b"expected_delivery=2030-02-03", headers=form
    )
    assert r.status == 303
    r = api.post(f"/public/lab-cases/{token}/delivery", raw=b"expected_delivery=soon", headers=form)
    assert r.status == 422 and "text/html" in r.headers["Content-Type"]
    r = api.post(f"/public/lab-cases/{token}/status", raw=b"status=shipped", headers=form)
    assert r.status == 303
    case = labs.call("get", f"/labs/cases/{cid}")
    assert case["status"] == "shipped" and case["expected_delivery"] == "2030-02-03"
    last = case["history"][-1]
    assert last["by"] == "lab" and last["by_name"] == "Dental Lab Sur"
    assert case["history"][-2]["note"] == "ok"
    names = [n for n, _ in published]
    assert "lab.case_status_changed" in names and "lab.delivery_date_set" in names
    detail = [d for n, d in published if n == "lab.case_status_changed"][-1]
    assert detail["status"] == "shipped" and detail["actor"]["type"] == "link"
    assert "Lucía" not in str(published)
    audit = labs.call("get", f"/audit?entity_type=lab_case&entity_id={cid}")
    lab_entries = [e for e in audit["items"] if e["actor_type"] == "link"]
    assert lab_entries and all("Dental Lab Sur" in e["actor_name"] for e in lab_entries)
    # the lab cannot move it any further
    r = api.post(f"/public/lab-cases/{token}/status", raw=b"status=in_progress", headers=form)
    assert r.status == 409


def test_lab_uploads_a_file(api, labs):
    cid, out = _sent(labs, "lab3@lab-sur.example")
    token = token_of(out["link"])
    r = api.post(
        f"/public/lab-cases/{token}/files",
        {"filename": "corona.stl", "content_type": "model/stl", "size": 20},
    )
    assert r.status == 201, r.body
    up = r.json()["data"]
    resp = requests.post(
        up["upload"]["url"],
        data=up["upload"]["fields"],
        files={"file": ("corona.stl", b"solid x\nendsolid", "model/stl")},
        timeout=10,
    )
    assert resp.status_code in (200, 201, 204)
    r = api.post(f"/public/lab-cases/{token}/files/{up['file']['file_id']}/complete")
    assert r.status == 200 and r.json()["data"]["status"] == "available"
    files = labs.call("get", f"/labs/cases/{cid}")["files"]
    assert files[0]["by"] == "lab" and files[0]["kind"] == "stl"
    r = api.post(
        f"/public/lab-cases/{token}/files",
        {"filename": "x.exe", "content_type": "application/octet-stream", "size": 2},
    )
    assert r.status == 422


def test_bad_tokens_are_pages_never_5xx(api, labs, other_labs):
    from chalicelib.labs import link

    cid, out = _sent(labs, "lab4@lab-sur.example")
    token = token_of(out["link"])
    parts = token.split(".")
    tampered = ".".join([*parts[:5], ("A" if parts[5][0] != "A" else "B") + parts[5][1:]])
    assert api.get(f"/public/lab-cases/{tampered}").status == 404
    assert api.get("/public/lab-cases/nonsense").status == 404
    # another case's id under this link's signature
    cid2, _ = _sent(labs, "lab5@lab-sur.example")
    swapped = ".".join([parts[0], parts[1], cid2, *parts[3:]])
    assert api.get(f"/public/lab-cases/{swapped}").status == 404
    # a genuine signature over another clinic's case, with this link's id
    ocid, _ = _sent(other_labs, "lab6@lab-sur.example")
    forged = link.LINKS.sign(parts[0], "lab", ocid, int(parts[3]))
    assert api.get(f"/public/lab-cases/{forged}").status == 404
    # a budget token's purpose never verifies here
    from chalicelib.billing.budgets import LINKS as BUDGET

    other_purpose = BUDGET.sign(parts[0], "accept", cid, int(parts[3]))
    assert api.get(f"/public/lab-cases/{other_purpose}").status == 404
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for bad in (tampered, swapped, forged):
        r = api.post(f"/public/lab-cases/{bad}/status", raw=b"status=in_progress", headers=form)
        assert r.status == 404
        r = api.post(
            f"/public/lab-cases/{bad}/files",
            {"filename": "a.png", "content_type": "image/png", "size": 3},
        )
        assert r.status == 404
    assert labs.call("get", f"/labs/cases/{cid}")["status"] == "sent"


def test_expiry(api, labs, monkeypatch):
    from chalicelib.labs import link as link_mod

    cid, out = _sent(labs, "lab7@lab-sur.example")
    token = token_of(out["link"])
    exp = int(token.split(".")[3])
    import chalicelib.core.links as core_links

    monkeypatch.setattr(core_links.time, "time", lambda: exp + 1)
    r = api.get(f"/public/lab-cases/{token}")
    assert r.status == 410 and "caducado" in r.body.decode()
    _ = link_mod, timedelta


def test_revoke_and_resend_and_replay(api, labs, published):
    cid, out = _sent(labs, "lab8@lab-sur.example")
    first = token_of(out["link"])
    assert api.get(f"/public/lab-cases/{first}").status == 200
    again = labs.send(cid)
    second = token_of(again["link"])
    assert api.get(f"/public/lab-cases/{first}").status == 410  # the new link revoked it
    assert api.get(f"/public/lab-cases/{second}").status == 200
    revoked = labs.call("delete", f"/labs/cases/{cid}/link")
    assert not revoked["link_active"]
    r = api.get(f"/public/lab-cases/{second}")
    assert r.status == 410 and "revocado" in r.body.decode()
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    r = api.post(f"/public/lab-cases/{second}/status", raw=b"status=in_progress", headers=form)
    assert r.status == 410  # replay after revoke changes nothing
    assert labs.call("get", f"/labs/cases/{cid}")["status"] == "sent"
    labs.call("delete", f"/labs/cases/{cid}/link", status=409)
    assert "lab.link_revoked" in [n for n, _ in published]


def test_public_routes_are_rate_limited(api, labs, monkeypatch):
    from chalicelib.labs import public

    monkeypatch.setattr(public, "VIEWS_PER_IP_PER_HOUR", 2)
    cid, out = _sent(labs, "lab9@lab-sur.example")
    token = token_of(out["link"])
    codes = [api.get(f"/public/lab-cases/{token}", ip="10.9.9.9").status for _ in range(3)]
    assert codes == [200, 200, 429]


def test_a_remake_goes_back_to_the_lab_with_a_new_link(api, labs, published):
    cid, out = _sent(labs, "lab10@lab-sur.example")
    first = token_of(out["link"])
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for to in ("in_progress", "shipped"):
        r = api.post(f"/public/lab-cases/{first}/status", raw=f"status={to}".encode(), headers=form)
        assert r.status == 303
    labs.move(cid, "received")
    labs.move(cid, "returned_for_remake")
    again = labs.send(cid)
    assert again["case"]["status"] == "sent"
    second = token_of(again["link"])
    assert api.get(f"/public/lab-cases/{first}").status == 410
    r = api.post(
        f"/public/lab-cases/{first}/files",
        {"filename": "a.png", "content_type": "image/png", "size": 3},
    )
    assert r.status == 410 and r.json()["code"] == "LAB_LINK_REVOKED"
    r = api.post(f"/public/lab-cases/{second}/status", raw=b"status=in_progress", headers=form)
    assert r.status == 303
    h = labs.call("get", f"/labs/cases/{cid}")["history"]
    assert [x["to_status"] for x in h][-3:] == ["returned_for_remake", "sent", "in_progress"]
    assert h[-1]["by"] == "lab"
    labs.send(cid, status=200)  # a re-send while in progress keeps the status
    assert labs.call("get", f"/labs/cases/{cid}")["status"] == "in_progress"
    labs.move(cid, "shipped")
    labs.send(cid, status=409)  # once shipped, nothing goes back to the lab by link
