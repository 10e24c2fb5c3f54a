"""Per-clinic VERI*FACTU settings: environment (test | production, production locked until the
clinic admin enables it explicitly), the SIF data, the certificate and the alerts."""

from __future__ import annotations

from chalicelib.core import audit, validators
from chalicelib.core.api import Principal
from chalicelib.core.db import clinic_pk
from chalicelib.core.errors import Conflict, Unprocessable
from chalicelib.core.i18n import render, tr
from chalicelib.core.ids import now
from chalicelib.identity.service import get_clinic
from chalicelib.verifactu import certificates, service, submission
from chalicelib.verifactu import contracts as c
from chalicelib.verifactu.models import SeriesBlock


def _blocked(clinic_id: str) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for b in SeriesBlock.query(clinic_pk(clinic_id), SeriesBlock.SK.startswith("VFBLOCK#")):
        if isinstance(b, SeriesBlock) and int(b.count or 0) > 0:
            out[b.series] = dict(b.records or {})
    return out


def get(principal: Principal, lang: str = "en") -> c.SettingsOut:
    cid = principal.clinic_id
    at = now()
    s = service.load_settings(cid)
    clinic = get_clinic(cid)
    nif = validators.normalise_id(clinic.tax_id) if clinic.tax_id else None
    cert_item = certificates.find(cid)
    cert = certificates.certificate_out(cert_item, nif, at) if cert_item else None
    chains = [
        c.ChainStatusOut(
            nif=h.nif,
            records=int(h.seq or 0),
            pending=int(h.pending or 0),
            submission_status=h.submission_status or "idle",
            last_sent_at=h.last_sent_at,
            tiempo_espera=int(h.tiempo_espera) if h.tiempo_espera is not None else None,
            next_attempt_at=h.next_attempt_at,
            last_error=h.last_error,
            held=bool(h.held),
        )
        for h in service.heads(cid)
    ]
    blocked = _blocked(cid)
    alerts = _alerts(cert, chains, blocked, lang)
    return c.SettingsOut(
        environment=s.environment,  # type: ignore[arg-type]
        production_locked=s.environment != "production",
        production_enabled_at=s.production_enabled_at,
        sistema_informatico=service.sistema_informatico(cid).model_dump(mode="json"),
        certificate=cert,
        chains=chains,
        blocked_series=blocked,
        alerts=alerts,
    )


def status(principal: Principal, lang: str = "en") -> c.StatusOut:
    """The ledger's state for every user who may read it (no certificate, no SIF data)."""
    full = get(principal, lang)
    return c.StatusOut(
        environment=full.environment,
        chains=full.chains,
        blocked_series=full.blocked_series,
        alerts=full.alerts,
    )


def _alerts(
    cert: c.CertificateOut | None,
    chains: list[c.ChainStatusOut],
    blocked: dict[str, dict[str, str]],
    lang: str,
) -> list[c.AlertOut]:
    """What needs someone's attention, in the caller's language, with the values as params so
    that a screen can lay them out its own way."""
    alerts: list[c.AlertOut] = []

    def add(code: str, message: str, **params: object) -> None:
        alerts.append(c.AlertOut(code=code, message=render(message, lang), params=params))

    if not submission.configured():
        add(
            "SUBMISSION_NOT_CONFIGURED",
            tr(
                "This stack has no AEAT endpoint (local development): records are written, "
                "chained and verifiable, but none is sent. Set AEAT_ENDPOINT_OVERRIDE (e.g. to "
                "the test stub) to send them.",
                "Este entorno no tiene dirección de la AEAT (desarrollo local): los registros se "
                "escriben, encadenan y verifican, pero no se envían. Define "
                "AEAT_ENDPOINT_OVERRIDE (p. ej. al simulador de pruebas) para enviarlos.",
            ),
        )
    if cert is None:
        add(
            "CERTIFICATE_MISSING",
            tr(
                "Upload the clinic's AEAT certificate: without it no record is sent.",
                "Sube el certificado de la clínica para la AEAT: sin él no se envía ningún "
                "registro.",
            ),
        )
    elif cert.expired:
        add(
            "CERTIFICATE_EXPIRED",
            tr(
                "The AEAT certificate has expired: upload a new one.",
                "El certificado para la AEAT ha caducado: sube uno nuevo.",
            ),
            not_after=cert.not_after.date().isoformat(),
        )
    elif cert.expires_soon:
        day = cert.not_after.date().isoformat()
        add(
            "CERTIFICATE_EXPIRES_SOON",
            tr(
                f"The AEAT certificate expires in {cert.days_left} day(s) ({day}): renew it.",
                f"El certificado para la AEAT caduca en {cert.days_left} día(s) ({day}): "
                "renuévalo.",
            ),
            days_left=cert.days_left,
            not_after=day,
        )
    for ch in chains:
        if ch.held:
            add(
                "SUBMISSION_FAILED",
                tr(
                    f"Sending the records of {ch.nif} stopped: {ch.last_error}",
                    f"El envío de los registros de {ch.nif} se ha detenido: {ch.last_error}",
                ),
                nif=ch.nif,
                error=ch.last_error,
            )
        elif ch.submission_status == "retrying":
            # Orden HAC/1177/2024 art. 16.4: warn from the incident on, saying how many records
            # are still to be sent (ADR 0207).
            add(
                "SUBMISSION_INCIDENT",
                tr(
                    f"The AEAT cannot be reached ({ch.last_error}): {ch.pending} record(s) of "
                    f"{ch.nif} are still to be sent. They are retried at least hourly and will "
                    "be sent marked as affected by an incident.",
                    f"No se puede contactar con la AEAT ({ch.last_error}): quedan {ch.pending} "
                    f"registro(s) de {ch.nif} por enviar. Se reintenta al menos cada hora y se "
                    "enviarán marcados como afectados por una incidencia.",
                ),
                nif=ch.nif,
                pending=ch.pending,
                error=ch.last_error,
            )
    for series, records in blocked.items():
        add(
            "SERIES_BLOCKED",
            tr(
                f"Series {series} is blocked: {len(records)} record(s) rejected by the AEAT "
                "need a subsanación.",
                f"La serie {series} está bloqueada: {len(records)} registro(s) rechazado(s) por "
                "la AEAT necesitan una subsanación.",
            ),
            series=series,
            count=len(records),
        )
    return alerts


def put(principal: Principal, body: c.SettingsIn, lang: str = "en") -> c.SettingsOut:
    cid = principal.clinic_id
    s = service.load_settings(cid)
    clinic = service.require_es(cid)
    if body.environment == s.environment:
        return get(principal, lang)
    if s.environment == "production":
        raise Conflict(
            tr(
                "Production is enabled for good: records sent to the AEAT cannot go back to the "
                "test environment.",
                "El entorno de producción está activado de forma definitiva: los registros "
                "enviados a la AEAT no pueden volver al entorno de pruebas.",
            ),
            code="VERIFACTU_PRODUCTION_FINAL",
        )
    nif = validators.normalise_id(clinic.tax_id) if clinic.tax_id else None
    if not nif:
        raise Conflict(
            tr(
                "Set the clinic's NIF before enabling production.",
                "Indica el NIF de la clínica antes de activar el entorno de producción.",
            ),
            code="ISSUER_INCOMPLETE",
        )
    if (body.confirmation or "").strip().upper() != nif:
        raise Unprocessable(
            tr(
                "To send records to the AEAT's production environment, confirm by typing the "
                f"clinic's NIF ({nif}) in 'confirmation'.",
                "Para enviar registros al entorno de producción de la AEAT, confirma escribiendo "
                f"el NIF de la clínica ({nif}) en 'confirmation'.",
            ),
            errors=[
                {
                    "field": "confirmation",
                    "message": tr("must be the clinic's NIF", "debe ser el NIF de la clínica"),
                }
            ],
            code="CONFIRMATION_REQUIRED",
        )
    if certificates.find(cid) is None:
        raise Conflict(
            tr(
                "Upload the clinic's AEAT certificate before enabling production.",
                "Sube el certificado electrónico de la clínica para la AEAT antes de activar el "
                "entorno de producción.",
            ),
            code="CERTIFICATE_MISSING",
        )
    at = now()
    s.environment = "production"
    s.production_enabled_at = at
    s.production_enabled_by = principal.user_id
    s.updated_at = at
    s.save()
    audit.record(
        cid,
        principal.actor,
        "verifactu.production.enabled",
        "verifactu_settings",
        "VFSETTINGS",
        before={"environment": "test"},
        after={"environment": "production"},
    )
    submission.wake(cid)
    return get(principal, lang)


def release(principal: Principal, lang: str = "en") -> c.SettingsOut:
    """Resume sending after a held (Client fault) submission, once the cause is fixed."""
    submission.wake(principal.clinic_id, release=True)
    audit.record(
        principal.clinic_id,
        principal.actor,
        "verifactu.submission.released",
        "verifactu_settings",
        "VFSETTINGS",
    )
    return get(principal, lang)
