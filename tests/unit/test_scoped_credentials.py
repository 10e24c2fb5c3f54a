"""The policies of clinic-scoped credentials (ADR 0012), judged by the local stand-in's IAM
evaluator, and the routing of calls between a clinic's credentials and the global path. No
AWS here: the credentials object is given a fake cache."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from botocore.credentials import Credentials, ReadOnlyCredentials

from chalicelib.core import scoping
from infra.local.moto_scoping import allowed, dynamodb_checks, s3_check

A = "01J0000000000000000000000A"
B = "01J0000000000000000000000B"
TABLE = "arn:aws:dynamodb:eu-south-2:123456789012:table/cuspide-test"
ARNS = {
    "table_arn": TABLE,
    "media_bucket_arn": "arn:aws:s3:::cuspide-test-media",
    "archive_bucket_arn": "arn:aws:s3:::cuspide-test-verifactu-archive",
}
POLICY_A = scoping.clinic_policy(A, **ARNS)
GLOBAL = scoping.global_policy(table_arn=TABLE)
ROLE = scoping.role_policy(**ARNS)


def S(v: str) -> dict[str, str]:
    return {"S": v}


def may(policy: dict[str, Any], operation: str, params: dict[str, Any]) -> bool:
    params = {"TableName": "cuspide-test", **params}
    return all(
        allowed(policy, action, arn, ctx)
        for action, arn, ctx in dynamodb_checks(operation, params, "eu-south-2")
    )


def get(pk: str) -> tuple[str, dict[str, Any]]:
    return "GetItem", {"Key": {"PK": S(pk), "SK": S("X")}}


def query(pk: str, index: str | None = None) -> tuple[str, dict[str, Any]]:
    name = f"{index}PK" if index else "PK"
    params: dict[str, Any] = {
        "KeyConditionExpression": "#0 = :0 AND begins_with(#1, :1)",
        "ExpressionAttributeNames": {"#0": name, "#1": "SK"},
        "ExpressionAttributeValues": {":0": S(pk), ":1": S("PAT#")},
    }
    if index:
        params["IndexName"] = index
    return "Query", params


def transact(*pks: str) -> tuple[str, dict[str, Any]]:
    return "TransactWriteItems", {
        "TransactItems": [
            {"Put": {"TableName": "cuspide-test", "Item": {"PK": S(pk), "SK": S("X")}}}
            for pk in pks
        ]
    }


# --- the clinic's session policy ---------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        get(f"C#{A}"),
        ("PutItem", {"Item": {"PK": S(f"C#{A}"), "SK": S("PAT#1")}}),
        ("UpdateItem", {"Key": {"PK": S(f"C#{A}"), "SK": S("PAT#1")}}),
        ("DeleteItem", {"Key": {"PK": S(f"C#{A}"), "SK": S("PAT#1")}}),
        query(f"C#{A}"),
        query(f"C#{A}#PAT", "GSI1"),
        query(f"C#{A}#AUDIT#U#u1", "GSI1"),
        ("BatchGetItem", {"RequestItems": {"cuspide-test": {"Keys": [{"PK": S(f"C#{A}")}] * 2}}}),
        transact(f"C#{A}", f"C#{A}"),
        transact(f"C#{A}", "DEVKEY#abc"),  # a clinic item and its lookup, atomically
        get("SESSION#s1"),
    ],
)
def test_a_clinic_reaches_its_own_keys(call: tuple[str, dict[str, Any]]) -> None:
    assert may(POLICY_A, *call)


@pytest.mark.parametrize(
    "call",
    [
        get(f"C#{B}"),
        ("PutItem", {"Item": {"PK": S(f"C#{B}"), "SK": S("PAT#1")}}),
        query(f"C#{B}"),
        query(f"C#{B}#PAT", "GSI1"),
        query(f"C#{A}X"),  # an id that merely starts with A's
        query(f"C#{A[:-1]}"),  # a prefix of A's id
        (
            "BatchGetItem",
            {
                "RequestItems": {
                    "cuspide-test": {"Keys": [{"PK": S(f"C#{A}")}, {"PK": S(f"C#{B}")}]}
                }
            },
        ),
        transact(f"C#{A}", f"C#{B}"),
        # global index keys return other clinics' items: never with a clinic's credentials
        query("USER#u1", "GSI1"),
        query("BUDEXP#2026-01-01", "GSI3"),
        query("VFDUE", "GSI1"),
        ("Scan", {}),
        (
            "Query",
            {
                "KeyConditionExpression": "#0 = :0",
                "ExpressionAttributeNames": {"#0": "PK"},
                "ExpressionAttributeValues": {":0": S("ANY")},
            },
        ),
    ],
)
def test_a_clinic_never_reaches_another_clinics_keys(call: tuple[str, dict[str, Any]]) -> None:
    assert not may(POLICY_A, *call)


def test_a_clinic_reaches_its_own_objects_only() -> None:
    media, archive = "cuspide-test-media", "cuspide-test-verifactu-archive"
    for method in ("GET", "HEAD", "PUT", "DELETE", "POST"):
        own = s3_check(method, media, f"clinics/{A}/uploads/1/original", {})
        other = s3_check(method, media, f"clinics/{B}/uploads/1/original", {})
        assert allowed(POLICY_A, *own, {}) and not allowed(POLICY_A, *other, {})
    # the archive: read its own copies (any version), never write or delete (ADR 0206)
    own_copy, their_copy = f"verifactu/{A}/N/1.xml", f"verifactu/{B}/N/1.xml"
    for q in ({}, {"versionId": ["v1"]}):
        assert allowed(POLICY_A, *s3_check("GET", archive, own_copy, q), {})
        assert allowed(ROLE, *s3_check("GET", archive, own_copy, q), {})
        assert not allowed(POLICY_A, *s3_check("GET", archive, their_copy, q), {})
        for method in ("PUT", "DELETE"):
            assert not allowed(POLICY_A, *s3_check(method, archive, own_copy, q), {})
            assert not allowed(ROLE, *s3_check(method, archive, own_copy, q), {})
    assert allowed(POLICY_A, *s3_check("PUT", media, f"clinics/{A}/x", {"tagging": [""]}), {})
    # a request naming a version is the version action (AWS authorises it so), own prefix only
    v = {"versionId": ["3HL4kqtJlcpXroDTDmJ"]}
    assert s3_check("GET", media, f"clinics/{A}/x", v)[0] == "s3:GetObjectVersion"
    assert s3_check("DELETE", media, f"clinics/{A}/x", v)[0] == "s3:DeleteObjectVersion"
    assert s3_check("PUT", media, f"clinics/{A}/x", {"tagging": [""], **v})[0] == (
        "s3:PutObjectVersionTagging"
    )
    for method in ("GET", "HEAD", "DELETE"):
        assert allowed(POLICY_A, *s3_check(method, media, f"clinics/{A}/x", v), {})
        assert allowed(ROLE, *s3_check(method, media, f"clinics/{A}/x", v), {})
        assert not allowed(POLICY_A, *s3_check(method, media, f"clinics/{B}/x", v), {})
    # nothing at the bucket level: no listing other clinics' keys
    assert not allowed(POLICY_A, *s3_check("GET", media, "", {}), {})
    assert not allowed(POLICY_A, *s3_check("GET", media, "other/x", {}), {})


def test_the_session_policy_fits_sts_limits() -> None:
    # A session policy may have 2,048 characters (packed further by STS).
    long_arns = {k: v.replace("cuspide-test", "cuspide-production-x") for k, v in ARNS.items()}
    assert len(scoping.packed(scoping.clinic_policy(A, **long_arns))) < 2048


@pytest.mark.parametrize("bad", ["*", "A*", "A?", "A#B", "", "x" * 65, "a/b"])
def test_a_clinic_id_cannot_widen_the_pattern(bad: str) -> None:
    with pytest.raises(ValueError):
        scoping.clinic_policy(bad, **ARNS)


def test_the_role_bounds_every_clinic_policy() -> None:
    """What a clinic's policy allows, the role allows too (the effective rights are their
    intersection): sampled over the calls above."""
    for call in (get(f"C#{A}"), query(f"C#{A}#PAT", "GSI1"), transact(f"C#{A}", "DEVKEY#x")):
        assert may(POLICY_A, *call) and may(ROLE, *call)
    assert not may(ROLE, *query("USER#u1", "GSI1"))
    assert not may(ROLE, "Scan", {})


# --- the global path ---------------------------------------------------------------------


def test_the_global_path_is_narrow() -> None:
    for call in (
        get("EMAIL#a@b.es"),
        get("RT#abc"),
        query("USER#u1", "GSI1"),
        query("USER#u1#SESSIONS", "GSI1"),
        query("DUE#2026-01-01T08", "GSI1"),
        query("LIVEEXP#2026", "GSI2"),
        ("DescribeTable", {}),
    ):
        assert may(GLOBAL, *call), call
    for call in (
        get(f"C#{A}"),
        query(f"C#{A}#PAT", "GSI1"),
        transact("EMAIL#x", f"C#{A}"),
        ("Scan", {}),
    ):
        assert not may(GLOBAL, *call), call


@pytest.mark.parametrize(
    ("call", "is_global"),
    [
        (get("EMAIL#a@b.es"), True),
        (query("USER#u1", "GSI1"), True),
        (transact("DEVKEY#a", "RT#b"), True),
        (("DescribeTable", {"TableName": "t"}), True),
        (get(f"C#{A}"), False),
        (transact("DEVKEY#a", f"C#{A}"), False),
        (query(f"C#{A}#PAT", "GSI1"), False),
        (("Scan", {}), False),  # no key: never the global path's to serve
    ],
)
def test_calls_are_routed_by_their_keys(call: tuple[str, dict[str, Any]], is_global: bool) -> None:
    assert scoping.is_global_call("dynamodb", *call) is is_global


def test_the_legacy_key_conditions_are_read() -> None:
    params = {
        "KeyConditions": {"PK": {"AttributeValueList": [S(f"C#{B}")], "ComparisonOperator": "EQ"}}
    }
    assert not may(POLICY_A, "Query", params)
    assert [k for *_, k in scoping.dynamodb_requests("Query", params)] == [[f"C#{B}"]]


# --- the credentials object ----------------------------------------------------------------


class FakeCache:
    def __init__(self) -> None:
        self.asked: list[str] = []

    def get(self, clinic_id: str) -> ReadOnlyCredentials:
        self.asked.append(clinic_id)
        return ReadOnlyCredentials(f"AK-{clinic_id}", "s", "t")


def test_credentials_follow_the_current_clinic_and_the_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TENANT_ROLE_ARN", "arn:aws:iam::123456789012:role/t")
    fake = FakeCache()
    monkeypatch.setattr(scoping, "cache", fake)
    creds = scoping.RoutedCredentials(Credentials("BASE", "s"), by_call=True)
    assert creds.get_frozen_credentials().access_key == "BASE"  # no clinic: the function's own
    with scoping.clinic(A):
        scoping._route("before-parameter-build.dynamodb.GetItem", params=get(f"C#{A}")[1])
        assert creds.get_frozen_credentials().access_key == f"AK-{A}"
        scoping._route("before-parameter-build.dynamodb.GetItem", params=get("EMAIL#x")[1])
        assert creds.get_frozen_credentials().access_key == "BASE"
        with scoping.unscoped():
            scoping._route("before-parameter-build.dynamodb.GetItem", params=get(f"C#{A}")[1])
            assert creds.get_frozen_credentials().access_key == "BASE"
        with scoping.clinic(B):
            assert creds.get_frozen_credentials().access_key == f"AK-{B}"
        assert creds.get_frozen_credentials().access_key == f"AK-{A}"
    assert creds.get_frozen_credentials().access_key == "BASE"
    monkeypatch.delenv("TENANT_ROLE_ARN")
    with scoping.clinic(A):  # scoping off: always the function's own
        assert creds.get_frozen_credentials().access_key == "BASE"


def test_each_thread_has_its_own_clinic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TENANT_ROLE_ARN", "arn:aws:iam::123456789012:role/t")
    monkeypatch.setattr(scoping, "cache", FakeCache())
    creds = scoping.RoutedCredentials(Credentials("BASE", "s"), by_call=False)
    seen: dict[str, str] = {}
    barrier = threading.Barrier(2)

    def serve(cid: str) -> None:
        with scoping.clinic(cid):
            barrier.wait()
            seen[cid] = creds.get_frozen_credentials().access_key

    threads = [threading.Thread(target=serve, args=(c,)) for c in (A, B)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {A: f"AK-{A}", B: f"AK-{B}"}


def test_the_cache_assumes_once_per_clinic_until_near_expiry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [1_000_000.0]
    calls: list[str] = []

    def assume(cid: str) -> tuple[ReadOnlyCredentials, float]:
        calls.append(cid)
        return ReadOnlyCredentials(f"AK-{cid}-{len(calls)}", "s", "t"), now[0] + 3600

    monkeypatch.setattr(scoping, "_assume", assume)
    monkeypatch.setattr(scoping.time, "time", lambda: now[0])
    cache = scoping._Cache()
    assert cache.get(A).access_key == f"AK-{A}-1"
    assert cache.get(A).access_key == f"AK-{A}-1" and calls == [A]
    cache.get(B)
    assert calls == [A, B]
    now[0] += 3600 - scoping.REFRESH_MARGIN_S - 1  # still more than the margin left
    assert cache.get(A).access_key == f"AK-{A}-1"
    now[0] += 2  # within the margin: renewed
    assert cache.get(A).access_key == f"AK-{A}-3" and calls == [A, B, A]


def test_evaluator_fails_closed_on_operators_it_does_not_know() -> None:
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "dynamodb:GetItem",
                "Resource": "*",
                "Condition": {"NumericLessThan": {"x": "1"}},
            }
        ]
    }
    assert not allowed(policy, "dynamodb:GetItem", TABLE, {"x": ["0"]})
    deny = {
        "Statement": [
            {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "dynamodb:GetItem", "Resource": TABLE},
        ]
    }
    assert not allowed(deny, "dynamodb:GetItem", TABLE, {})
    assert allowed(deny, "dynamodb:PutItem", TABLE, {})
    assert json.loads(scoping.packed(POLICY_A)) == POLICY_A


@pytest.mark.parametrize(
    ("consumer", "service_attr", "call"),
    [
        ("timeline_consumer", "record", "service"),
        ("notifications_consumer", "handle_event", "notifications"),
        ("live_push", "push", "service"),
    ],
)
def test_consumers_work_with_the_events_clinic(
    consumer: str, service_attr: str, call: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    module = importlib.import_module(f"functions.{consumer}")
    seen: list[str | None] = []
    monkeypatch.setattr(
        getattr(module, call), service_attr, lambda *a, **k: seen.append(scoping.current_clinic())
    )
    for cid in (A, "*"):  # a malformed id is not a scope (no pattern from it)
        body = json.dumps({"detail-type": "patient.created", "detail": {"clinic_id": cid}})
        module.record_handler(SQSRecord({"body": body, "messageId": "m"}))
    assert seen == [A, None]
    assert scoping.current_clinic() is None


def test_a_request_whose_key_cannot_be_read_is_refused() -> None:
    """The stand-in fails closed: no readable key is not 'no key' (ForAllValues would pass)."""
    odd = {"KeyConditionExpression": "PK IN (:0)", "ExpressionAttributeValues": {":0": S("x")}}
    assert not may(POLICY_A, "Query", odd)
    assert not may(POLICY_A, "GetItem", {"Key": {"PK": {"N": "1"}}})


def test_jobs_work_with_the_clinic_of_each_item() -> None:
    with scoping.for_partition(f"C#{A}"):
        assert scoping.current_clinic() == A
    for pk in ("EMAIL#x", "C#*", f"C#{A}#X", "C#"):  # no clinic's partition: unscoped
        with scoping.for_partition(pk):
            assert scoping.current_clinic() is None


def test_adopt_scopes_the_rest_of_an_adoptable_block_only() -> None:
    assert scoping.current_clinic() is None
    scoping.adopt(A)  # outside a block (a service called directly): nothing changes
    assert scoping.current_clinic() is None
    with scoping.adoptable():
        scoping.adopt(A)
        assert scoping.current_clinic() == A
        scoping.adopt(A)  # the same clinic again: fine
        with pytest.raises(RuntimeError):
            scoping.adopt(B)  # another clinic in the same request is a bug
        with pytest.raises(ValueError):
            scoping.adopt("A*")
    assert scoping.current_clinic() is None  # the next invocation starts unscoped
    with scoping.clinic(A), scoping.adoptable():
        assert scoping.current_clinic() is None  # a request starts unscoped, whatever ran before
    with scoping.for_clinic(B):
        assert scoping.current_clinic() == B
    with scoping.for_clinic("B#1"):
        assert scoping.current_clinic() is None
