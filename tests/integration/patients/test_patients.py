"""Patients through the API: create, duplicates, read, edit, archive, search, encryption,
permissions and tenant isolation."""

from __future__ import annotations

from datetime import date

import boto3
import pytest

from tests.conftest import ENDPOINT, RESOURCES
from tests.integration.conftest import add_member
from tests.integration.patients.helpers import create_patient, dni, patient_body


def raw_items(clinic_id: str, prefix: str) -> list[dict]:
    ddb = boto3.client("dynamodb", endpoint_url=ENDPOINT)
    resp = ddb.query(
        TableName=RESOURCES.table_name,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"C#{clinic_id}"}},
    )
    return [i for i in resp["Items"] if i["SK"]["S"].startswith(prefix)]


# --- create and read -----------------------------------------------------------------------


def test_create_and_get_patient(api, clinic, published):
    nid = dni()
    body = patient_body(
        national_id={"type": "dni", "number": nid.lower()},
        whatsapp="+34 699 123 456",
        address={"line1": "Calle Mayor 1", "city": "Madrid", "postal_code": "28013"},
        emergency_contact={"name": "Pedro Pérez", "phone": "+34600111222"},
        preferred_channel="whatsapp",
    )
    r = api.post("/patients", body, token=clinic.admin_token)
    assert r.status == 201, r.body
    p = r.json()["data"]
    assert p["national_id"] == {"type": "dni", "number": nid}
    assert p["whatsapp"] == "+34699123456"
    assert p["full_name"] == f"Lucía {body['last_name']} Muñoz"
    assert p["alerts"] == [] and p["has_medical_history"] is False
    assert p["archived"] is False and p["is_minor"] is False
    assert published[-1][0] == "patient.created"
    assert published[-1][1]["patient_id"] == p["patient_id"]
    assert published[-1][1]["clinic_id"] == clinic.clinic_id

    got = api.get(f"/patients/{p['patient_id']}", token=clinic.admin_token)
    assert got.status == 200
    assert got.json()["data"]["national_id"]["number"] == nid
    assert got.json()["data"]["emergency_contact"]["phone"] == "+34600111222"


def test_sensitive_fields_are_ciphertext_in_the_raw_table(api, clinic):
    nid = dni()
    p = create_patient(
        api, clinic.admin_token, national_id={"type": "dni", "number": nid}, whatsapp="+34699000111"
    )
    r = api.put(
        f"/patients/{p['patient_id']}/medical",
        {"allergies": [{"substance": "Penicilina", "severity": "severe"}]},
        token=clinic.admin_token,
    )
    assert r.status == 200
    items = raw_items(clinic.clinic_id, "")
    blob = repr(items)
    assert nid not in blob
    assert "699000111" not in blob
    assert "Penicilina" not in blob and "penicilina" not in blob
    item = next(i for i in items if i["SK"]["S"] == f"PAT#{p['patient_id']}")
    for attr in ("national_id_sealed", "whatsapp_sealed", "medical_sealed"):
        assert item[attr]["S"].startswith("v1:")
    # search index keys hold hashes, never the plain value
    idx = [i["SK"]["S"] for i in items if i["SK"]["S"].startswith("PIDX#")]
    assert any(k.startswith("PIDX#I#") for k in idx)
    assert not any(nid.lower() in k.lower() for k in idx)
    assert not any(p["email"] in k for k in idx)


def test_a_minors_guardian_is_sealed_like_the_patients_own_id(api, clinic, other_clinic):
    """The guardian is a third person (name, phone, identity document): never in clear."""
    guardian_id = dni()
    guardian = {
        "name": "Marta Guardiana",
        "relationship": "madre",
        "phone": "+34611222333",
        "national_id": {"type": "dni", "number": guardian_id},
    }
    p = create_patient(api, clinic.admin_token, date_of_birth="2016-05-04", legal_guardian=guardian)
    assert p["legal_guardian"]["national_id"]["number"] == guardian_id
    blob = repr(raw_items(clinic.clinic_id, ""))
    for secret in (guardian_id, "Guardiana", "611222333"):
        assert secret not in blob
    item = next(
        i for i in raw_items(clinic.clinic_id, "") if i["SK"]["S"] == f"PAT#{p['patient_id']}"
    )
    assert item["legal_guardian_sealed"]["S"].startswith("v1:")
    r = api.patch(
        f"/patients/{p['patient_id']}", {"profession": "estudiante"}, token=clinic.admin_token
    )
    assert r.status == 200 and r.json()["data"]["legal_guardian"] == p["legal_guardian"]
    assert guardian_id not in repr(raw_items(clinic.clinic_id, ""))
    url = f"/patients/{p['patient_id']}"
    assert api.get(url, token=other_clinic.admin_token).status == 404


def test_a_guardian_stored_in_clear_before_is_read_and_sealed_on_the_next_edit(api, clinic):
    from chalicelib.core.db import clinic_pk
    from chalicelib.patients.models import Patient

    guardian = {"name": "Pedro Antiguo", "relationship": "padre"}
    p = create_patient(api, clinic.admin_token, date_of_birth="2015-01-02", legal_guardian=guardian)
    item = Patient.get(clinic_pk(clinic.clinic_id), f"PAT#{p['patient_id']}")
    item.legal_guardian_sealed = None
    item.legal_guardian = {**guardian, "phone": None, "email": None, "national_id": None}
    item.save()  # as an item written before guardians were sealed
    url = f"/patients/{p['patient_id']}"
    got = api.get(url, token=clinic.admin_token).json()["data"]
    assert got["legal_guardian"]["name"] == "Pedro Antiguo"
    r = api.patch(url, {"profession": "estudiante"}, token=clinic.admin_token)
    assert r.status == 200 and r.json()["data"]["legal_guardian"]["name"] == "Pedro Antiguo"
    assert "Antiguo" not in repr(raw_items(clinic.clinic_id, ""))


def _patient_audit(api, clinic, pid):
    q = f"/audit?entity_type=patient&entity_id={pid}&limit=100"
    r = api.get(q, token=clinic.admin_token)
    assert r.status == 200, r.body
    return r.json()["data"]["items"]


def test_reading_medical_history_and_identity_documents_is_audited(api, clinic, other_clinic):
    """Who saw a patient's clinical data or identity document, when and from where; never
    the values."""
    nid = dni()
    p = create_patient(api, clinic.admin_token, national_id={"type": "dni", "number": nid})
    pid = p["patient_id"]
    dentist = add_member(api, clinic, "dentist")
    api.put(
        f"/patients/{pid}/medical",
        {"allergies": [{"substance": "Látex", "severity": "severe"}]},
        token=clinic.admin_token,
    )
    assert api.get(f"/patients/{pid}/medical", token=dentist["token"], ip="10.7.7.7").status == 200
    assert api.get(f"/patients/{pid}", token=dentist["token"], ip="10.7.7.7").status == 200
    entries = _patient_audit(api, clinic, pid)
    viewed = {e["action"]: e for e in entries if e["action"].endswith("_viewed")}
    assert set(viewed) == {"patient.medical_viewed", "patient.national_id_viewed"}
    for e in viewed.values():
        assert e["actor_id"] == dentist["user_id"] and e["ip"] == "10.7.7.7"
        assert e["changes"] is None
    blob = repr(entries)
    assert nid not in blob and "Látex" not in blob
    # another clinic's reader gets 404 and leaves no trace in either clinic
    assert api.get(f"/patients/{pid}/medical", token=other_clinic.admin_token).status == 404
    assert len(_patient_audit(api, clinic, pid)) == len(entries)
    # a patient without an identity document is read without an entry
    plain = create_patient(api, clinic.admin_token)["patient_id"]
    api.get(f"/patients/{plain}", token=dentist["token"])
    assert not [e for e in _patient_audit(api, clinic, plain) if e["action"].endswith("_viewed")]


@pytest.mark.parametrize(
    "over,field",
    [
        ({"national_id": {"type": "dni", "number": "12345678A"}}, "national_id"),
        ({"national_id": {"type": "nie", "number": "X1234567A"}}, "national_id"),
        ({"phone": "12"}, "phone"),
        ({"email": "not-an-email"}, "email"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({"gender": "robot"}, "gender"),
        ({"first_name": ""}, "first_name"),
        ({"unknown_field": 1}, "unknown_field"),
    ],
)
def test_create_rejects_bad_input_with_field_errors(api, clinic, over, field):
    r = api.post("/patients", patient_body(**over), token=clinic.admin_token)
    assert r.status == 422, r.body
    assert any(field in e["field"] for e in r.json()["errors"]), r.json()["errors"]


def test_valid_nie_is_accepted(api, clinic):
    p = create_patient(api, clinic.admin_token, national_id={"type": "nie", "number": "X1234567L"})
    assert p["national_id"]["number"] == "X1234567L"


def test_minor_needs_a_legal_guardian(api, clinic):
    dob = date(date.today().year - 8, 1, 15).isoformat()
    r = api.post("/patients", patient_body(date_of_birth=dob), token=clinic.admin_token)
    assert r.status == 422
    assert "legal_guardian" in r.body.decode()
    guardian = {"name": "Marta Ruiz", "relationship": "madre", "phone": "+34611222333"}
    r = api.post(
        "/patients",
        patient_body(date_of_birth=dob, legal_guardian=guardian),
        token=clinic.admin_token,
    )
    assert r.status == 201, r.body
    assert r.json()["data"]["is_minor"] is True
    assert r.json()["data"]["legal_guardian"]["name"] == "Marta Ruiz"
    # the guardian cannot then be removed while the patient is a minor
    pid = r.json()["data"]["patient_id"]
    r = api.patch(f"/patients/{pid}", {"legal_guardian": None}, token=clinic.admin_token)
    assert r.status == 422


def test_duplicate_national_id_answers_409_unless_confirmed(api, clinic):
    nid = dni()
    first = create_patient(api, clinic.admin_token, national_id={"type": "dni", "number": nid})
    body = patient_body(first_name="Otro", national_id={"type": "dni", "number": nid})
    r = api.post("/patients", body, token=clinic.admin_token)
    assert r.status == 409
    assert r.json()["data"] == {"existing_patient_id": first["patient_id"]}
    r = api.post("/patients", {**body, "confirm_duplicate": True}, token=clinic.admin_token)
    assert r.status == 201
    assert r.json()["data"]["patient_id"] != first["patient_id"]


def test_duplicate_name_and_birth_date_answers_409(api, clinic):
    first = create_patient(api, clinic.admin_token, first_name="José", last_name="Núñez")
    body = patient_body(
        first_name="jose",
        last_name="NUNEZ",
        second_last_name="muñoz",
        date_of_birth=first["date_of_birth"],
    )
    r = api.post("/patients", body, token=clinic.admin_token)
    assert r.status == 409
    assert r.json()["data"]["existing_patient_id"] == first["patient_id"]
    # another birth date is another person
    r = api.post("/patients", {**body, "date_of_birth": "2001-01-01"}, token=clinic.admin_token)
    assert r.status == 201


def test_same_national_id_in_another_clinic_is_not_a_duplicate(api, clinic, other_clinic):
    nid = dni()
    create_patient(api, clinic.admin_token, national_id={"type": "dni", "number": nid})
    create_patient(api, other_clinic.admin_token, national_id={"type": "dni", "number": nid})


# --- update and archive --------------------------------------------------------------------


def test_update_reports_changed_field_names_only(api, clinic, published):
    p = create_patient(api, clinic.admin_token)
    r = api.patch(
        f"/patients/{p['patient_id']}",
        {"phone": "+34622333444", "profession": "Profesora", "first_name": "Lucía"},
        token=clinic.admin_token,
    )
    assert r.status == 200, r.body
    assert r.json()["data"]["phone"] == "+34622333444"
    name, detail = published[-1]
    assert name == "patient.updated"
    assert detail["changes"] == ["phone", "profession"]
    assert "+34622333444" not in repr(detail) and "Profesora" not in repr(detail)
    # the new phone is searchable, the old one no longer finds the patient
    r = api.get("/patients?phone=%2B34622333444", token=clinic.admin_token)
    assert [i["patient_id"] for i in r.json()["data"]["items"]] == [p["patient_id"]]
    r = api.get(f"/patients?phone={p['phone'].replace('+', '%2B')}", token=clinic.admin_token)
    assert r.json()["data"]["items"] == []


def test_update_bad_input_is_422(api, clinic):
    p = create_patient(api, clinic.admin_token)
    for body in ({"first_name": None}, {"phone": "abc"}, {"national_id": {"type": "dni"}}):
        r = api.patch(f"/patients/{p['patient_id']}", body, token=clinic.admin_token)
        assert r.status == 422, (body, r.body)
        assert r.json()["errors"]


def test_archive_hides_from_search_and_unarchive_restores(api, clinic, published):
    p = create_patient(api, clinic.admin_token, last_name="Archivable")
    pid = p["patient_id"]
    r = api.post(f"/patients/{pid}/archive", token=clinic.admin_token)
    assert r.status == 200 and r.json()["data"]["archived"] is True
    assert published[-1][0] == "patient.archived"
    assert published[-1][1]["patient_id"] == pid
    r = api.get("/patients?q=archivable", token=clinic.admin_token)
    assert r.json()["data"]["items"] == []
    r = api.get("/patients?q=archivable&include_archived=true", token=clinic.admin_token)
    assert [i["patient_id"] for i in r.json()["data"]["items"]] == [pid]
    assert api.get(f"/patients/{pid}", token=clinic.admin_token).json()["data"]["archived"]
    r = api.post(f"/patients/{pid}/unarchive", token=clinic.admin_token)
    assert r.status == 200 and r.json()["data"]["archived"] is False
    r = api.get("/patients?q=archivable", token=clinic.admin_token)
    assert [i["patient_id"] for i in r.json()["data"]["items"]] == [pid]


def test_receptionist_cannot_archive(api, clinic, receptionist):
    p = create_patient(api, clinic.admin_token)
    r = api.post(f"/patients/{p['patient_id']}/archive", token=receptionist["token"])
    assert r.status == 403
    assert r.json()["data"]["permission"] == "patients.archive"


# --- search --------------------------------------------------------------------------------


def test_name_search_is_case_and_accent_insensitive_prefix_on_any_name(api, clinic):
    a = create_patient(
        api,
        clinic.admin_token,
        first_name="Íñigo",
        last_name="Zubizarreta",
        second_last_name="Öztürk",
    )
    b = create_patient(
        api, clinic.admin_token, first_name="Inés", last_name="Zubiría", second_last_name=None
    )
    create_patient(api, clinic.admin_token, first_name="Pablo", last_name="Zamora")

    def ids(q: str) -> set[str]:
        r = api.get(f"/patients?q={q}", token=clinic.admin_token)
        assert r.status == 200, r.body
        return {i["patient_id"] for i in r.json()["data"]["items"]}

    assert ids("zubi") == {a["patient_id"], b["patient_id"]}
    assert ids("ZUBÍ") == {a["patient_id"], b["patient_id"]}
    assert ids("inig") == {a["patient_id"]}
    assert ids("ozt") == {a["patient_id"]}  # second surname
    assert ids("in%20zubir") == {b["patient_id"]}  # every word must match some name
    assert ids("zubizarretax") == set()


def test_exact_search_by_phone_email_and_national_id(api, clinic):
    nid = dni()
    p = create_patient(
        api, clinic.admin_token, national_id={"type": "dni", "number": nid}, whatsapp="+34677888999"
    )
    create_patient(api, clinic.admin_token)
    t = clinic.admin_token

    def ids(qs: str) -> list[str]:
        r = api.get(f"/patients?{qs}", token=t)
        assert r.status == 200, r.body
        return [i["patient_id"] for i in r.json()["data"]["items"]]

    assert ids(f"national_id={nid[:4]}-{nid[4:].lower()}") == [p["patient_id"]]
    assert ids(f"email={p['email'].upper()}") == [p["patient_id"]]
    local = p["phone"][3:]  # without +34: the Spanish default region applies
    assert ids(f"phone={local}") == [p["patient_id"]]
    assert ids("phone=%2B34677888999") == [p["patient_id"]]  # the WhatsApp number too
    assert ids("email=nobody@example.com") == []


def test_search_is_tenant_scoped(api, clinic, other_clinic):
    create_patient(api, clinic.admin_token, last_name="Solouno")
    r = api.get("/patients?q=solouno", token=other_clinic.admin_token)
    assert r.json()["data"]["items"] == []


def test_list_pages_with_a_cursor_and_rejects_foreign_cursors(api, clinic, other_clinic):
    made = {create_patient(api, clinic.admin_token)["patient_id"] for _ in range(5)}
    seen: list[str] = []
    cursors: list[str] = []
    cursor = None
    while True:
        qs = "limit=2" + (f"&cursor={cursor}" if cursor else "")
        r = api.get(f"/patients?{qs}", token=clinic.admin_token)
        assert r.status == 200, r.body
        d = r.json()["data"]
        assert len(d["items"]) <= 2
        seen += [i["patient_id"] for i in d["items"]]
        cursor = d["next_cursor"]
        if not cursor:
            break
        cursors.append(cursor)
    assert set(seen) == made and len(seen) == len(made)
    r = api.get(f"/patients?cursor={cursors[0]}", token=other_clinic.admin_token)
    assert r.status == 400


def test_search_bad_input_is_422(api, clinic):
    for qs in ("limit=0", "limit=abc", "phone=12", "q=ana&phone=%2B34600111222", "q=%21%21"):
        r = api.get(f"/patients?{qs}", token=clinic.admin_token)
        assert r.status == 422, (qs, r.body)
        assert r.json()["errors"]


# --- medical history and alerts ------------------------------------------------------------


HISTORY = {
    "allergies": [
        {"substance": "Penicilina", "severity": "severe"},
        {"substance": "Ibuprofeno", "severity": "mild"},
    ],
    "medications": [{"name": "Sintrom 4 mg", "dose": "según pauta"}],
    "systemic_diseases": [{"name": "Fibrilación auricular"}],
    "conditions": {"diabetes": "type2", "smoker": True},
}


def test_medical_history_alerts_show_on_every_read(api, clinic, receptionist, published):
    p = create_patient(api, clinic.admin_token)
    pid = p["patient_id"]
    r = api.put(f"/patients/{pid}/medical", HISTORY, token=clinic.admin_token)
    assert r.status == 200, r.body
    messages = [a["message"] for a in r.json()["data"]["alerts"]]
    assert "Severe allergy: Penicilina" in messages
    assert "Anticoagulated" in messages  # from the medication, not a flag
    assert "Diabetes (type 2)" in messages
    name, detail = published[-1]
    assert name == "patient.medical_updated"
    assert detail["patient_id"] == pid and detail["user_id"] == clinic.admin_id
    assert "Penicilina" not in repr(detail)

    # a receptionist sees the alerts on the patient and in search results ...
    got = api.get(f"/patients/{pid}", token=receptionist["token"])
    assert got.status == 200
    assert "Severe allergy: Penicilina" in [a["message"] for a in got.json()["data"]["alerts"]]
    assert got.json()["data"]["alerts"][0]["level"] == "critical"
    assert "allergies" not in got.json()["data"]
    found = api.get(f"/patients?q={p['last_name']}", token=receptionist["token"])
    assert found.json()["data"]["items"][0]["alerts"]
    # ... but not the history itself
    r = api.get(f"/patients/{pid}/medical", token=receptionist["token"])
    assert r.status == 403
    assert r.json()["data"]["permission"] == "patients.medical.read"
    r = api.put(f"/patients/{pid}/medical", HISTORY, token=receptionist["token"])
    assert r.status == 403


def test_medical_history_round_trip_and_granted_receptionist(api, clinic, receptionist):
    pid = create_patient(api, clinic.admin_token)["patient_id"]
    r = api.get(f"/patients/{pid}/medical", token=clinic.admin_token)
    assert r.status == 200
    assert r.json()["data"]["history"]["allergies"] == [] and r.json()["data"]["alerts"] == []
    api.put(f"/patients/{pid}/medical", HISTORY, token=clinic.admin_token)
    r = api.get(f"/patients/{pid}/medical", token=clinic.admin_token)
    h = r.json()["data"]["history"]
    assert h["allergies"][0]["substance"] == "Penicilina"
    assert h["conditions"]["smoker"] is True
    assert r.json()["data"]["updated_by"] == clinic.admin_id
    # granted explicitly, the receptionist can read it
    from chalicelib.core.rbac import DEFAULT_ROLE_GRANTS

    grants = [*DEFAULT_ROLE_GRANTS["receptionist"], "patients.medical.read"]
    assert (
        api.put("/roles/receptionist", {"grants": grants}, token=clinic.admin_token).status == 200
    )
    r = api.get(f"/patients/{pid}/medical", token=receptionist["token"])
    assert r.status == 200
    assert r.json()["data"]["history"]["allergies"][0]["severity"] == "severe"


def test_medical_bad_input_is_422(api, clinic):
    pid = create_patient(api, clinic.admin_token)["patient_id"]
    for body in (
        {"allergies": [{"substance": "x", "severity": "terrible"}]},
        {"conditions": {"diabetes": "maybe"}},
        {"allergies": "penicilina"},
    ):
        r = api.put(f"/patients/{pid}/medical", body, token=clinic.admin_token)
        assert r.status == 422, body
        assert r.json()["errors"]


# --- auth, permissions, tenancy -----------------------------------------------------------


ROUTES = [
    ("GET", "/patients", None),
    ("POST", "/patients", "body"),
    ("GET", "/patients/{pid}", None),
    ("PATCH", "/patients/{pid}", {"profession": "x"}),
    ("POST", "/patients/{pid}/archive", None),
    ("POST", "/patients/{pid}/unarchive", None),
    ("GET", "/patients/{pid}/medical", None),
    ("PUT", "/patients/{pid}/medical", {"notes": "x"}),
]


def test_every_patient_route_needs_a_token(api, clinic):
    pid = create_patient(api, clinic.admin_token)["patient_id"]
    for method, path, body in ROUTES:
        payload = patient_body() if body == "body" else body
        r = api.request(method, path.format(pid=pid), payload)
        assert r.status == 401, (method, path)


def test_every_patient_route_is_forbidden_without_its_permission(api, clinic):
    pid = create_patient(api, clinic.admin_token)["patient_id"]
    member = add_member(api, clinic, "hygienist")
    assert (
        api.put(
            "/roles/hygienist", {"grants": ["agenda.appointments.read"]}, token=clinic.admin_token
        ).status
        == 200
    )
    for method, path, body in ROUTES:
        payload = patient_body() if body == "body" else body
        r = api.request(method, path.format(pid=pid), payload, token=member["token"])
        assert r.status == 403, (method, path)
        assert r.json()["data"]["permission"].startswith("patients.")


def test_another_clinic_cannot_reach_the_patient(api, clinic, other_clinic):
    p = create_patient(api, clinic.admin_token, last_name="Privado")
    for method, path, body in ROUTES:
        if "{pid}" not in path:
            continue
        r = api.request(
            method, path.format(pid=p["patient_id"]), body, token=other_clinic.admin_token
        )
        assert r.status == 404, (method, path, r.body)
    # and nothing changed for the owner
    got = api.get(f"/patients/{p['patient_id']}", token=clinic.admin_token).json()["data"]
    assert got["profession"] is None and got["archived"] is False
    assert got["has_medical_history"] is False


def test_unknown_patient_is_404(api, clinic):
    r = api.get("/patients/01JZZZZZZZZZZZZZZZZZZZZZZZ", token=clinic.admin_token)
    assert r.status == 404
