"""Routes of recalls and follow-ups (ADR 1404): rules and settings (``recalls.manage``), the
front desk's lists (``recalls.read``) and its actions on a patient's recall or follow-up
(``recalls.write``). Handlers parse, call one service function and shape the response."""

from __future__ import annotations

from chalicelib.core.api import Page, Req, Router
from chalicelib.recalls import followups, reminders, rules, schemas, service

router = Router("recalls")
r = router.route
TAGS = ("recalls",)
RECALL = "/patients/{patient_id}/recalls/{rule_id}"
FOLLOWUP = "/patients/{patient_id}/followups/{followup_id}"


@r(
    "/recalls/rules",
    "GET",
    permission="recalls.read",
    response=list[schemas.RuleOut],
    summary="The clinic's recall rules (the defaults are written on first use)",
    tags=TAGS,
)
def list_recall_rules(req: Req) -> list[schemas.RuleOut]:
    return rules.list_rules(req.user)


@r(
    "/recalls/rules",
    "POST",
    permission="recalls.manage",
    body=schemas.RuleIn,
    response=schemas.RuleOut,
    status=201,
    summary="Add a recall rule: which completed treatments set it and how many months later",
    tags=TAGS,
)
def create_recall_rule(req: Req) -> schemas.RuleOut:
    return rules.create_rule(req.user, req.body)


@r(
    "/recalls/rules/{rule_id}",
    "PATCH",
    permission="recalls.manage",
    body=schemas.RuleUpdate,
    response=schemas.RuleOut,
    summary="Edit a recall rule (only the fields sent; active=false switches it off)",
    tags=TAGS,
)
def update_recall_rule(req: Req, rule_id: str) -> schemas.RuleOut:
    return rules.update_rule(req.user, rule_id, req.body)


@r(
    "/recalls/settings",
    "GET",
    permission="recalls.read",
    response=schemas.SettingsOut,
    summary="Follow-up delays, automatic messages and recall reminder days",
    tags=TAGS,
)
def get_recall_settings(req: Req) -> schemas.SettingsOut:
    return rules.get_settings(req.user)


@r(
    "/recalls/settings",
    "PUT",
    permission="recalls.manage",
    body=schemas.SettingsIn,
    response=schemas.SettingsOut,
    summary="Set follow-up delays, automatic messages and recall reminder days",
    tags=TAGS,
)
def put_recall_settings(req: Req) -> schemas.SettingsOut:
    return rules.put_settings(req.user, req.body)


@r(
    "/recalls/due",
    "GET",
    permission="recalls.read",
    query=schemas.DueQuery,
    response=list[schemas.RecallOut],
    paged=True,
    summary="Recalls due up to a date (default: a week from today), most overdue first",
    tags=TAGS,
)
def list_due_recalls(req: Req) -> Page:
    return service.due_list(req.user, req.query, req.lang)


@r(
    "/followups/{kind}",
    "GET",
    permission="recalls.read",
    query=schemas.FollowUpQuery,
    response=list[schemas.FollowUpOut],
    paged=True,
    summary="Open follow-ups of a kind (budget, plan, noshow) older than the clinic's delay",
    tags=TAGS,
)
def list_followups(req: Req, kind: str) -> Page:
    return followups.list_kind(req.user, kind, req.query)


@r(
    "/patients/{patient_id}/recalls",
    "GET",
    permission="recalls.read",
    response=schemas.PatientRecallsOut,
    summary="The patient's recalls (next due first) and follow-ups, with what was sent",
    tags=(*TAGS, "patients"),
)
def get_patient_recalls(req: Req, patient_id: str) -> schemas.PatientRecallsOut:
    return followups.patient_view(req.user, patient_id, req.lang)


@r(
    RECALL,
    "PUT",
    permission="recalls.write",
    body=schemas.RecallSetIn,
    response=schemas.RecallOut,
    summary="Set the patient's recall of a rule by hand (a new cycle due on the date)",
    tags=TAGS,
)
def set_patient_recall(req: Req, patient_id: str, rule_id: str) -> schemas.RecallOut:
    return service.set_recall(req.user, patient_id, rule_id, req.body, req.lang)


@r(
    RECALL + "/snooze",
    "POST",
    permission="recalls.write",
    body=schemas.SnoozeIn,
    response=schemas.RecallOut,
    summary="Snooze a recall until a later day (listed and reminded from then)",
    tags=TAGS,
)
def snooze_patient_recall(req: Req, patient_id: str, rule_id: str) -> schemas.RecallOut:
    return service.snooze(req.user, patient_id, rule_id, req.body, req.lang)


@r(
    RECALL + "/dismiss",
    "POST",
    permission="recalls.write",
    body=schemas.DismissIn,
    response=schemas.RecallOut,
    summary="Dismiss a recall: off the list, no reminders, until a new completion",
    tags=TAGS,
)
def dismiss_patient_recall(req: Req, patient_id: str, rule_id: str) -> schemas.RecallOut:
    return service.dismiss(req.user, patient_id, rule_id, req.body, req.lang)


@r(
    RECALL + "/send",
    "POST",
    permission="recalls.write",
    response=schemas.SendOut,
    summary="Send the recall reminder now (email with a booking link; once a day)",
    tags=TAGS,
)
def send_patient_recall(req: Req, patient_id: str, rule_id: str) -> schemas.SendOut:
    return reminders.send_recall_now(req.user, patient_id, rule_id)


@r(
    FOLLOWUP,
    "POST",
    permission="recalls.write",
    body=schemas.FollowUpDoneIn,
    response=schemas.FollowUpOut,
    summary="Record a follow-up call: contacted (stays listed) or done (off the list)",
    tags=TAGS,
)
def mark_patient_followup(req: Req, patient_id: str, followup_id: str) -> schemas.FollowUpOut:
    return followups.mark(req.user, patient_id, followup_id, req.body)


@r(
    FOLLOWUP + "/send",
    "POST",
    permission="recalls.write",
    response=schemas.SendOut,
    summary="Send the follow-up message now (once a day)",
    tags=TAGS,
)
def send_patient_followup(req: Req, patient_id: str, followup_id: str) -> schemas.SendOut:
    return reminders.send_followup_now(req.user, patient_id, followup_id)
