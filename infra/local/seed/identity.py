"""Clínica Demo (every role) and Clínica Norte (to try tenant isolation)."""

from __future__ import annotations

from chalicelib.core import rbac
from chalicelib.core.api import Principal
from chalicelib.identity import schemas, service, sessions, staff
from chalicelib.identity.models import Membership
from infra.local.seed.context import DEMO_PASSWORD, DemoContext

DEMO_STAFF = [
    # email, name, role, is_professional
    ("dentist@demo.clinic", "Dra. Lucía Martín", "dentist", True),
    ("hygienist@demo.clinic", "Sergio Ruiz", "hygienist", True),
    ("assistant@demo.clinic", "Marta Gil", "assistant", False),
    ("reception@demo.clinic", "Carmen López", "receptionist", False),
]


def _principal(m: Membership, plan: str) -> Principal:
    grants, _ = service.role_grants(m.clinic_id, m.role)
    return Principal(
        user_id=m.user_id,
        clinic_id=m.clinic_id,
        session_id="seed",
        role=m.role,
        plan=plan,
        permissions=frozenset(rbac.effective_permissions(grants, plan)),
        email=m.email,
        name=m.name,
        ip="127.0.0.1",
        user_agent="seed",
    )


def _clinic(
    name: str,
    legal: str,
    tax_id: str,
    city: str,
    postal: str,
    admin_email: str,
    admin_name: str,
    color: str,
) -> str:
    body = schemas.SignupIn(
        clinic=schemas.ClinicFields(
            name=name,
            legal_name=legal,
            tax_id=tax_id,
            country="ES",
            time_zone="Europe/Madrid",
            currency="EUR",
            language="es",
            address=schemas.Address(
                line1="Calle Mayor 12", city=city, postal_code=postal, province=city, country="ES"
            ),
            branding=schemas.Branding(color=color),
        ),
        admin=schemas.AdminFields(name=admin_name, email=admin_email, password=DEMO_PASSWORD),
    )
    return sessions.signup(body, "seed", "seed").clinic.clinic_id


def seed() -> DemoContext | None:
    if service._user_by_email("admin@demo.clinic") is not None:
        return None
    demo_id = _clinic(
        "Clínica Demo",
        "Clínica Dental Demo S.L.",
        "B12345674",
        "Madrid",
        "28013",
        "admin@demo.clinic",
        "Elena Sánchez",
        "#0f766e",
    )
    norte_id = _clinic(
        "Clínica Norte",
        "Odontología Norte S.L.",
        "B87654323",
        "Bilbao",
        "48001",
        "admin@norte.clinic",
        "Iñaki Etxeberria",
        "#1d4ed8",
    )
    service.set_plan(demo_id, "pro_plus")
    ctx = DemoContext(demo_clinic_id=demo_id, norte_clinic_id=norte_id)
    for email, name, role, pro in DEMO_STAFF:
        staff.provision_member(
            demo_id, email=email, name=name, role=role, password=DEMO_PASSWORD, is_professional=pro
        )
    # The demo dentist also works at Clínica Norte: sign in as her to see the clinic switcher.
    staff.provision_member(
        norte_id,
        email="dentist@demo.clinic",
        name="Dra. Lucía Martín",
        role="dentist",
        password=DEMO_PASSWORD,
        is_professional=True,
    )
    for cid, plan, target in ((demo_id, "pro_plus", ctx.demo), (norte_id, "free", ctx.norte)):
        for m in Membership.query(f"C#{cid}", Membership.SK.startswith("MEMBER#")):
            target.setdefault(m.role, _principal(m, plan))
    return ctx
