"""Recall rules (which completed treatments set which recall, and how many months later) and
the follow-up settings (delays, automatic messages, recall reminder days). ADR 1404."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.core import audit
from chalicelib.core.api import Principal
from chalicelib.core.errors import Conflict, NotFound, Unprocessable
from chalicelib.core.i18n import tr
from chalicelib.core.ids import new_id, now
from chalicelib.recalls import common, schemas
from chalicelib.recalls.models import FollowUpSettings, RecallRule


def rule_out(r: RecallRule) -> schemas.RuleOut:
    return schemas.RuleOut(
        rule_id=r.rule_id,
        name_es=r.name_es,
        name_en=r.name_en,
        codes=list(r.codes or []),
        ortho_finished=bool(r.ortho_finished),
        interval_months=int(r.interval_months),
        booking_type_id=r.booking_type_id,
        active=bool(r.active),
        updated_at=r.updated_at,
    )


def list_rules(principal: Principal) -> list[schemas.RuleOut]:
    found = common.rules(principal.clinic_id)
    return [rule_out(r) for r in sorted(found, key=lambda r: (not r.active, r.name_es))]


def _no_trigger() -> Unprocessable:
    return Unprocessable(
        tr(
            "A rule needs at least one treatment code or the end of an orthodontic case.",
            "Una regla necesita al menos un código de tratamiento o el fin de un caso de "
            "ortodoncia.",
        ),
        code="RECALL_RULE_NO_TRIGGER",
        errors=[{"field": "codes", "message": tr("required", "obligatorio")}],
    )


def create_rule(principal: Principal, data: schemas.RuleIn) -> schemas.RuleOut:
    cid = principal.clinic_id
    if not data.codes and not data.ortho_finished:
        raise _no_trigger()
    if len(common.rules(cid)) >= schemas.MAX_RULES:
        raise Conflict(
            tr(
                f"A clinic has at most {schemas.MAX_RULES} recall rules.",
                f"Una clínica tiene como mucho {schemas.MAX_RULES} reglas de revisión.",
            ),
            code="RECALL_RULES_FULL",
        )
    at = now()
    r = RecallRule(
        *RecallRule.key(cid, rid := new_id()),
        rule_id=rid,
        created_at=at,
        updated_at=at,
        version=1,
        **data.model_dump(),
    )
    r.save(condition=RecallRule.SK.does_not_exist())
    audit.record(cid, principal.actor, "recalls.rule.created", "recall_rule", rid, after=_plain(r))
    return rule_out(r)


def _plain(r: RecallRule) -> dict:
    o = rule_out(r).model_dump()
    o.pop("updated_at")
    o["codes"] = ",".join(o["codes"])
    return o


def update_rule(principal: Principal, rule_id: str, data: schemas.RuleUpdate) -> schemas.RuleOut:
    cid = principal.clinic_id
    common.rules(cid)  # the defaults exist before one is edited
    try:
        r = RecallRule.get(*RecallRule.key(cid, rule_id), consistent_read=True)
    except DoesNotExist as exc:
        raise NotFound(
            tr("No recall rule with that id in this clinic.", "No hay esa regla de revisión."),
            code="RECALL_RULE_NOT_FOUND",
        ) from exc
    before = _plain(r)
    for k, v in data.model_dump(exclude_unset=True).items():
        setattr(r, k, v)
    if not r.codes and not r.ortho_finished:
        raise _no_trigger()
    old = int(r.version)
    r.version, r.updated_at = old + 1, now()
    try:
        r.save(condition=RecallRule.version == old)  # type: ignore[comparison-overlap]
    except PutError as exc:
        raise Conflict(
            tr("The rule changed meanwhile; reload it.", "La regla ha cambiado; recárgala."),
            code="RECALL_RULE_CHANGED",
        ) from exc
    audit.record(
        cid,
        principal.actor,
        "recalls.rule.updated",
        "recall_rule",
        rule_id,
        before=before,
        after=_plain(r),
    )
    return rule_out(r)


# --- settings ----------------------------------------------------------------------------------


def settings_out(s: FollowUpSettings) -> schemas.SettingsOut:
    return schemas.SettingsOut(
        recall_reminders=bool(s.recall_reminders),
        recall_reminder_days=[int(d) for d in (s.recall_reminder_days or [])]
        or list(common.DEFAULT_REMINDER_DAYS),
        budget_days=int(s.budget_days),
        plan_days=int(s.plan_days),
        noshow_days=int(s.noshow_days),
        auto_budget=bool(s.auto_budget),
        auto_plan=bool(s.auto_plan),
        auto_noshow=bool(s.auto_noshow),
    )


def get_settings(principal: Principal) -> schemas.SettingsOut:
    return settings_out(common.settings_of(principal.clinic_id))


def put_settings(principal: Principal, data: schemas.SettingsIn) -> schemas.SettingsOut:
    cid = principal.clinic_id
    s = common.settings_of(cid)
    before = settings_out(s).model_dump()
    for k, v in data.model_dump().items():
        setattr(s, k, v)
    s.updated_at = now()
    s.save()
    after = settings_out(s).model_dump()
    for d in (before, after):
        d["recall_reminder_days"] = ",".join(str(x) for x in d["recall_reminder_days"])
    audit.record(
        cid, principal.actor, "recalls.settings.updated", "clinic", cid, before=before, after=after
    )
    return settings_out(s)
