"""Permissions: a tree of dot-notation keys, role defaults, plan limits and matching.

A key is ``module.resource.action`` (``patients.medical.read``). Grants may use wildcards:
``billing.*`` grants every key under ``billing``; ``*`` grants everything. What a clinic's plan
does not include is denied whatever the role grants.

Every route declares exactly one key from :data:`PERMISSIONS`; a test checks that they all
exist here, so the tree the SPA shows is the full list.
"""

from __future__ import annotations

from collections.abc import Iterable

# key -> (English label, Spanish label). Order is the order the SPA shows.
PERMISSIONS: dict[str, tuple[str, str]] = {
    "patients.read": ("View patients", "Ver pacientes"),
    "patients.write": ("Create and edit patients", "Crear y editar pacientes"),
    "patients.archive": ("Archive patients", "Archivar pacientes"),
    "patients.medical.read": ("View medical history", "Ver historia médica"),
    "patients.medical.write": ("Edit medical history", "Editar historia médica"),
    "patients.timeline.read": ("View patient timeline", "Ver cronología del paciente"),
    "agenda.appointments.read": ("View the agenda", "Ver la agenda"),
    "agenda.appointments.write": ("Book and change appointments", "Citar y modificar citas"),
    "agenda.appointments.override": (
        "Book outside opening hours",
        "Citar fuera del horario",
    ),
    "agenda.settings.write": (
        "Edit cabinets, hours and holidays",
        "Editar gabinetes, horario y festivos",
    ),
    "imaging.images.read": ("View photos and X-rays", "Ver fotos y radiografías"),
    "imaging.images.write": ("Upload photos", "Subir fotos"),
    "imaging.xrays.write": ("Upload X-rays and DICOM", "Subir radiografías y DICOM"),
    "imaging.documents.read": ("View documents", "Ver documentos"),
    "imaging.documents.write": ("Upload and delete documents", "Subir y borrar documentos"),
    "clinical.chart.read": (
        "View the dental chart and treatment plan",
        "Ver el odontograma y el plan de tratamiento",
    ),
    "clinical.chart.write": (
        "Chart findings, plan and complete treatments",
        "Registrar hallazgos, planificar y completar tratamientos",
    ),
    "clinical.perio.read": ("View periodontal charts", "Ver periodontogramas"),
    "clinical.perio.write": ("Record periodontal exams", "Registrar periodontogramas"),
    "clinical.notes.read": ("Read clinical notes", "Leer notas clínicas"),
    "clinical.notes.write": (
        "Write, sign and amend clinical notes",
        "Escribir, firmar y enmendar notas clínicas",
    ),
    "clinical.ortho.read": (
        "View orthodontic cases and their alerts",
        "Ver los casos de ortodoncia y sus avisos",
    ),
    "clinical.ortho.write": (
        "Plan and track orthodontic cases",
        "Planificar y seguir casos de ortodoncia",
    ),
    "clinical.templates.write": (
        "Edit the clinic's note templates",
        "Editar las plantillas de notas de la clínica",
    ),
    "bridge.devices.manage": (
        "Register and manage Bridge devices (X-ray uploaders)",
        "Registrar y gestionar dispositivos Bridge (cargadores de radiografías)",
    ),
    "billing.catalog.read": ("View treatment catalog", "Ver catálogo de tratamientos"),
    "billing.catalog.write": ("Edit treatment catalog", "Editar catálogo de tratamientos"),
    "billing.budgets.read": ("View budgets", "Ver presupuestos"),
    "billing.budgets.write": ("Create and send budgets", "Crear y enviar presupuestos"),
    "billing.invoices.read": ("View invoices", "Ver facturas"),
    "billing.invoices.write": ("Draft invoices", "Preparar facturas"),
    "billing.invoices.issue": ("Issue and rectify invoices", "Emitir y rectificar facturas"),
    "billing.payments.write": ("Record payments and refunds", "Registrar cobros y devoluciones"),
    "verifactu.read": ("View VERI*FACTU records", "Ver registros VERI*FACTU"),
    "verifactu.admin": (
        "Manage AEAT certificate and environment",
        "Gestionar certificado y entorno AEAT",
    ),
    "verifactu.books.export": (
        "Download the invoice book and the records of a period",
        "Descargar el libro registro de facturas y los registros de un periodo",
    ),
    "comms.messages.read": ("View patient messages", "Ver mensajes de pacientes"),
    "comms.messages.write": ("Send messages to patients", "Enviar mensajes a pacientes"),
    "comms.whatsapp.admin": ("Connect WhatsApp", "Conectar WhatsApp"),
    "inventory.read": ("View inventory", "Ver inventario"),
    "inventory.write": ("Manage inventory", "Gestionar inventario"),
    "labs.read": ("View lab cases", "Ver trabajos de laboratorio"),
    "labs.write": (
        "Create and send lab cases, manage labs",
        "Crear y enviar trabajos de laboratorio, gestionar laboratorios",
    ),
    "reports.read": (
        "View the practice's figures and reports",
        "Ver las cifras e informes de la clínica",
    ),
    "reports.export": ("Download reports as CSV", "Descargar informes en CSV"),
    "settings.clinic.read": ("View clinic settings", "Ver ajustes de la clínica"),
    "settings.clinic.write": ("Edit clinic profile and branding", "Editar perfil y marca"),
    "settings.staff.read": ("View staff", "Ver equipo"),
    "settings.staff.write": ("Invite and manage staff", "Invitar y gestionar el equipo"),
    "settings.roles.read": ("View role permissions", "Ver permisos de los roles"),
    "settings.roles.write": ("Edit role permissions", "Editar permisos de los roles"),
    "audit.read": ("View and export the audit log", "Ver y exportar el registro de auditoría"),
    # Admin only by default ("*"): under gdpr.*, not patients.*, which the dentist holds.
    "gdpr.export": ("Export a patient's data (GDPR)", "Exportar los datos de un paciente (RGPD)"),
    "recalls.read": (
        "View recalls and follow-ups",
        "Ver revisiones periódicas y seguimientos",
    ),
    "recalls.write": (
        "Remind, snooze and close recalls and follow-ups",
        "Recordar, posponer y cerrar revisiones y seguimientos",
    ),
    # Admin only by default ("*"): the rules and the automatic messages speak for the clinic.
    "recalls.manage": (
        "Set recall rules and follow-up messages",
        "Configurar reglas de revisión y mensajes de seguimiento",
    ),
    "booking.manage": (
        "Switch online booking on or off and set its types",
        "Activar la reserva online y configurar sus tipos de cita",
    ),
    "gdpr.erase": (
        "Erase a patient's data on request (GDPR)",
        "Suprimir los datos de un paciente a petición (RGPD)",
    ),
    "gdpr.retention": (
        "Set how long records are kept (GDPR)",
        "Configurar los plazos de conservación (RGPD)",
    ),
}

# Labels of the inner nodes of the tree (first and second segments).
GROUP_LABELS: dict[str, tuple[str, str]] = {
    "patients": ("Patients", "Pacientes"),
    "patients.medical": ("Medical history", "Historia médica"),
    "patients.timeline": ("Timeline", "Cronología"),
    "agenda": ("Agenda", "Agenda"),
    "agenda.appointments": ("Appointments", "Citas"),
    "agenda.settings": ("Agenda settings", "Ajustes de agenda"),
    "imaging": ("Imaging", "Imagen"),
    "imaging.images": ("Photos and X-rays", "Fotos y radiografías"),
    "imaging.xrays": ("X-rays", "Radiografías"),
    "imaging.documents": ("Documents", "Documentos"),
    "clinical": ("Clinical record", "Historia clínica"),
    "clinical.chart": ("Dental chart", "Odontograma"),
    "clinical.perio": ("Periodontal chart", "Periodontograma"),
    "clinical.notes": ("Clinical notes", "Notas clínicas"),
    "clinical.ortho": ("Orthodontics", "Ortodoncia"),
    "clinical.templates": ("Note templates", "Plantillas de notas"),
    "bridge": ("Bridge", "Bridge"),
    "bridge.devices": ("Bridge devices", "Dispositivos Bridge"),
    "billing": ("Billing", "Facturación"),
    "billing.catalog": ("Catalog", "Catálogo"),
    "billing.budgets": ("Budgets", "Presupuestos"),
    "billing.invoices": ("Invoices", "Facturas"),
    "billing.payments": ("Payments", "Cobros"),
    "verifactu": ("VERI*FACTU", "VERI*FACTU"),
    "verifactu.books": ("Invoice book", "Libro registro"),
    "comms": ("Communications", "Comunicaciones"),
    "comms.messages": ("Messages", "Mensajes"),
    "comms.whatsapp": ("WhatsApp", "WhatsApp"),
    "inventory": ("Inventory", "Inventario"),
    "labs": ("Lab cases", "Laboratorio"),
    "reports": ("Reports", "Informes"),
    "settings": ("Settings", "Ajustes"),
    "settings.clinic": ("Clinic", "Clínica"),
    "settings.staff": ("Staff", "Equipo"),
    "settings.roles": ("Roles", "Roles"),
    "audit": ("Audit log", "Registro de auditoría"),
    "gdpr": ("GDPR", "RGPD"),
    "recalls": ("Recalls and follow-ups", "Revisiones y seguimiento"),
    "booking": ("Online booking", "Reserva online"),
}

ROLES = ("admin", "dentist", "hygienist", "assistant", "receptionist")

DEFAULT_ROLE_GRANTS: dict[str, tuple[str, ...]] = {
    "admin": ("*",),
    "dentist": (
        "patients.*",
        "agenda.appointments.*",
        "imaging.*",
        "clinical.*",
        "billing.catalog.read",
        "billing.budgets.*",
        "billing.invoices.read",
        "comms.messages.*",
        "inventory.read",
        "labs.*",
        "recalls.read",
        "settings.clinic.read",
        "settings.staff.read",
    ),
    "hygienist": (
        "patients.read",
        "patients.write",
        "patients.medical.*",
        "patients.timeline.read",
        "agenda.appointments.read",
        "agenda.appointments.write",
        "imaging.*",
        "clinical.chart.read",
        "clinical.perio.*",
        "clinical.notes.read",
        "clinical.notes.write",
        "clinical.ortho.read",
        "billing.catalog.read",
        "comms.messages.read",
        "inventory.read",
        "labs.read",
        "recalls.read",
        "settings.clinic.read",
    ),
    "assistant": (
        "patients.read",
        "patients.write",
        "patients.medical.read",
        "patients.timeline.read",
        "agenda.appointments.read",
        "agenda.appointments.write",
        "imaging.images.*",
        "imaging.xrays.write",
        "imaging.documents.*",
        "clinical.chart.read",
        "clinical.perio.*",
        "clinical.ortho.read",
        "inventory.*",
        "labs.*",
        "settings.clinic.read",
    ),
    "receptionist": (
        "patients.read",
        "patients.write",
        "patients.timeline.read",
        "agenda.appointments.*",
        "imaging.documents.*",
        "clinical.chart.read",
        "clinical.ortho.read",
        "billing.catalog.read",
        "billing.budgets.*",
        "billing.invoices.*",
        "billing.payments.write",
        "verifactu.read",
        "verifactu.books.export",
        "comms.messages.*",
        "inventory.read",
        "labs.*",
        "recalls.read",
        "recalls.write",
        "settings.clinic.read",
        "settings.staff.read",
    ),
}

PLANS = ("free", "pro", "pro_plus")

# What each plan leaves out, whatever the role grants.
PLAN_EXCLUDES: dict[str, tuple[str, ...]] = {
    "free": ("comms.whatsapp.*", "inventory.*"),
    "pro": ("inventory.*",),
    "pro_plus": (),
}


PLAN_LABELS: dict[str, tuple[str, str]] = {
    "free": ("Free", "Gratuito"),
    "pro": ("Pro", "Pro"),
    "pro_plus": ("Pro Plus", "Pro Plus"),
}


def excluded_by_plan(plan: str, key: str) -> bool:
    """Whether the clinic's plan leaves ``key`` out, whatever the role grants."""
    return granted(PLAN_EXCLUDES.get(plan, ()), key)


def plans_including(key: str) -> list[str]:
    """The plans that include ``key``, cheapest first."""
    return [p for p in PLANS if not excluded_by_plan(p, key)]


def matches(grant: str, key: str) -> bool:
    if grant == "*" or grant == key:
        return True
    return grant.endswith(".*") and key.startswith(grant[:-1])


def granted(grants: Iterable[str], key: str) -> bool:
    return any(matches(g, key) for g in grants)


def effective_permissions(grants: Iterable[str], plan: str) -> list[str]:
    """The concrete keys a role's grants yield under a plan, in tree order."""
    grants = list(grants)
    excluded = PLAN_EXCLUDES.get(plan, ())
    return [k for k in PERMISSIONS if granted(grants, k) and not granted(excluded, k)]


def missing_permissions(held: Iterable[str], given: Iterable[str]) -> list[str]:
    """The keys that the grants ``given`` yield and the grants ``held`` do not, in tree order.

    Nobody may hand out what they do not hold: assigning a role, inviting with a role or writing
    a role's grants is refused unless this is empty for the actor's own grants. The comparison
    is over the whole tree, whatever the clinic's plan, so that a plan upgrade cannot turn a
    grant written today (``inventory.*`` on the free plan) into an escalation tomorrow.
    """
    held, given = list(held), list(given)
    return [k for k in PERMISSIONS if granted(given, k) and not granted(held, k)]


def validate_grants(grants: Iterable[str]) -> list[str]:
    """Return the grants that match no key in the tree (typos), for a 422."""
    bad = []
    for g in grants:
        if g == "*":
            continue
        if g.endswith(".*"):
            if not any(k.startswith(g[:-1]) for k in PERMISSIONS):
                bad.append(g)
        elif g not in PERMISSIONS:
            bad.append(g)
    return bad


def tree(lang: str = "en") -> list[dict]:
    """The permission tree with labels, nested by dot segments, for the SPA."""
    idx = 0 if lang == "en" else 1
    root: list[dict] = []
    nodes: dict[str, dict] = {}

    def node_for(prefix: str) -> list[dict]:
        if not prefix:
            return root
        if prefix not in nodes:
            parent = prefix.rsplit(".", 1)[0] if "." in prefix else ""
            label = GROUP_LABELS.get(prefix, (prefix, prefix))[idx]
            n = {"key": prefix + ".*", "label": label, "children": []}
            nodes[prefix] = n
            node_for(parent).append(n)
        return nodes[prefix]["children"]

    for key, labels in PERMISSIONS.items():
        parts = key.split(".")
        parent = ".".join(parts[:-1])
        # A leaf like "patients.read" sits under "patients"; "verifactu.read" under "verifactu".
        node_for(parent).append({"key": key, "label": labels[idx]})
    return root
