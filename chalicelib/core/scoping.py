"""Clinic-scoped AWS credentials: tenant isolation below the application code (ADR 0012).

While a clinic's work runs (``with scoping.clinic(clinic_id):``, entered by the API once the
caller's clinic is known, by event consumers per event (:func:`for_event`) and by jobs per due
item (:func:`for_partition`)), every DynamoDB and S3 request is signed with credentials that can
reach only that clinic's data: temporary credentials of the tenant-data role
(``TENANT_ROLE_ARN``), assumed with a session policy built here for the clinic
(:func:`clinic_policy`). So a bug that builds another clinic's key is refused by AWS
(``AccessDeniedException`` / ``AccessDenied``), not only by the code that should not have
built it.

* One credentials object (:class:`RoutedCredentials`) serves every DynamoDB and S3 client of
  the process, boto3's and PynamoDB's alike: botocore asks it for frozen credentials each time
  it signs, and it answers with the current clinic's (a context variable, so each thread of
  the local server and each Lambda invocation has its own). No client is built per request.
* The clinic's credentials are cached per process until shortly before they expire: a warm
  request pays no STS round trip; a cold one (first request of a clinic in this process, or
  every half hour) pays one ``AssumeRole``.
* The global path: a DynamoDB call whose partition keys are all global lookups (login email,
  sessions, refresh tokens, device-key prefixes, link and ticket ids, rate limits...; none
  starts with ``C#``) or a table description is signed with the function's own credentials
  even inside a scope: global lookups are shared by every
  clinic, so no clinic's credentials may reach the global indexes (a GSI1 ``USER#<uid>`` query
  returns memberships of other clinics). A call that mixes a clinic item with a lookup (one
  transaction writing both) needs the clinic's credentials, whose policy also reaches the
  lookups on the base table only.
* Outside any scope (sign-in before the clinic is known, tests that write fixtures) calls are
  signed with the function's own credentials, whose role reaches the global path only. A
  public, device or sign-in route enters its clinic's scope with :func:`adopt` once its link,
  token, key or session has named it; the jobs and the image worker enter one per item, the
  consumers one per event (ADR 0012).

With ``TENANT_ROLE_ARN`` unset nothing is scoped: every call uses the function's own
credentials, exactly as before this module (the one switch; the CDK stack and the local stack
always set it).
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import botocore.session
from botocore.credentials import Credentials, ReadOnlyCredentials

TABLE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
)
"""What a clinic's credentials may do on the table: item reads and writes by key (transactions
are authorised item by item with these actions). No Scan: ``ForAllValues`` is true of a
request that has no partition key at all, so a Scan would pass a LeadingKeys condition."""

OBJECT_ACTIONS = (
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:GetObjectTagging",
    "s3:PutObjectTagging",
    # A request that names a version (``versionId``) is authorised with the version action
    # (S3 User Guide, "Policy actions for Amazon S3"): the image worker reads, tags and removes
    # the version it verified, the VERI*FACTU archive reads the version it noted.
    "s3:GetObjectVersion",
    "s3:DeleteObjectVersion",
    "s3:GetObjectVersionTagging",
    "s3:PutObjectVersionTagging",
)

ARCHIVE_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion")
"""What a clinic's credentials may do in the VERI*FACTU archive: read its own copies (the chain
check). Only the submission job writes it, with its own role's ``archive_write`` (ADR 0206:
the API never writes the archive, and every function that serves a clinic may assume the
tenant-data role); never delete."""

DATA_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt", "kms:DescribeKey")
"""The table and the media bucket are encrypted with the stage's KMS key: their readers and
writers need it, through DynamoDB and S3 only."""

GLOBAL_KEYS = (
    "EMAIL#*",
    "USER#*",
    "SESSION#*",
    "RT#*",
    "RL#*",
    "INVTOKEN#*",
    "PWRESET#*",
    "DEVKEY#*",
    "LIVETICKET#*",
    "BLINK#*",
    "LLINK#*",  # lab case links (docs/adr/1221)
    "ALINK#*",
    "WAPHONE#*",
    "WAMID#*",
    "CLAIM#*",
    "JOB#*",
    "UNDELIV#*",
    "EVENTS#*",
)
"""Partition keys of the global lookup items on the base table (docs/data-model.md): each
points at a clinic or a user and is shared by all clinics."""

GLOBAL_INDEX_KEYS = (
    "USER#*",  # GSI1: a user's memberships and sessions
    "DUE#*",  # GSI1: reminders and end-of-day mails due in an hour
    "VFDUE",  # GSI1: VERI*FACTU chains due for submission
    "VFRCDUE",  # GSI1: chains due for reconciliation
    "BUDEXP#*",  # GSI3: sent budgets by expiry date
    "RECREM#*",  # GSI3: recalls by next reminder date (ADR 1404)
    "FUREM#*",  # GSI3: follow-ups by automatic message date
    "UPLEXP#*",  # GSI1: upload slots by expiry hour (the upload-expiry job)
    "LIVECONN#*",  # GSI1: a live connection by id
    "LIVEEXP#*",  # GSI2: live connections by token expiry
)
"""Index partition keys that are not a clinic's: the jobs' cross-clinic buckets and the
lookups by user or connection. Only the global path queries them."""

DESCRIBE_OPERATIONS = frozenset({"DescribeTable", "DescribeTimeToLive", "ListTables"})

REFRESH_MARGIN_S = 30 * 60
"""Credentials are replaced when less than this is left of their life. Presigned URLs signed
with them stop working when the credentials expire, so this is also the shortest life a
presigned URL can have (docs/adr/0012)."""
DURATION_S = 3600  # the longest AssumeRole allows when a role assumes a role ("role chaining")

_SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")

_clinic: ContextVar[str | None] = ContextVar("cuspide_clinic_scope", default=None)
_path: ContextVar[str] = ContextVar("cuspide_call_path", default="clinic")
_slot: ContextVar[bool] = ContextVar("cuspide_scope_slot", default=False)
_bucket: ContextVar[bool] = ContextVar("cuspide_bucket_call", default=False)


# --- policies ------------------------------------------------------------------------------


def is_plain_id(clinic_id: str) -> bool:
    """True for an id that can go into a policy pattern (no wildcard or separator)."""
    return _SAFE_ID.fullmatch(clinic_id) is not None


def own_keys(clinic_id: str) -> list[str]:
    """The partition keys a clinic owns: its partition and its index keys ``C#<cid>#...``."""
    if not is_plain_id(clinic_id):  # no wildcard or separator may widen the pattern
        raise ValueError("a clinic id for a policy must be a plain id")
    return [f"C#{clinic_id}", f"C#{clinic_id}#*"]


def clinic_policy(
    clinic_id: str, *, table_arn: str, media_bucket_arn: str, archive_bucket_arn: str
) -> dict[str, Any]:
    """The session policy of one clinic's credentials (effective rights are its intersection
    with the tenant-data role's own policy)."""
    own = own_keys(clinic_id)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ClinicItems",
                "Effect": "Allow",
                "Action": list(TABLE_ACTIONS),
                "Resource": table_arn,
                "Condition": {
                    "ForAllValues:StringLike": {"dynamodb:LeadingKeys": own + list(GLOBAL_KEYS)}
                },
            },
            {
                "Sid": "ClinicIndexes",
                "Effect": "Allow",
                "Action": "dynamodb:Query",
                "Resource": f"{table_arn}/index/*",
                "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": own}},
            },
            {
                "Sid": "ClinicObjects",
                "Effect": "Allow",
                "Action": list(OBJECT_ACTIONS),
                "Resource": f"{media_bucket_arn}/clinics/{clinic_id}/*",
            },
            {
                # GDPR erasure and retention remove every version of a patient's objects
                # (ADR 1405): listing them is a bucket action, bounded to the clinic's prefix.
                "Sid": "ClinicVersions",
                "Effect": "Allow",
                "Action": "s3:ListBucketVersions",
                "Resource": media_bucket_arn,
                "Condition": {"StringLike": {"s3:prefix": f"clinics/{clinic_id}/*"}},
            },
            {
                "Sid": "ClinicArchive",
                "Effect": "Allow",
                "Action": list(ARCHIVE_ACTIONS),
                "Resource": f"{archive_bucket_arn}/verifactu/{clinic_id}/*",
            },
            {
                # The role's own policy names the key; a session policy cannot know its ARN.
                "Sid": "DataKey",
                "Effect": "Allow",
                "Action": list(DATA_KEY_ACTIONS),
                "Resource": "*",
                "Condition": {
                    "StringLike": {
                        "kms:ViaService": ["dynamodb.*.amazonaws.com", "s3.*.amazonaws.com"]
                    }
                },
            },
        ],
    }


def role_policy(*, table_arn: str, media_bucket_arn: str, archive_bucket_arn: str) -> dict:
    """The tenant-data role's own policy: the bound of every clinic's session policy (any
    clinic partition plus the lookups; objects under any clinic). It alone reaches every
    clinic, which is why the role is only ever used through a session policy."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AnyClinicItems",
                "Effect": "Allow",
                "Action": list(TABLE_ACTIONS),
                "Resource": table_arn,
                "Condition": {
                    "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["C#*", *GLOBAL_KEYS]}
                },
            },
            {
                "Sid": "AnyClinicIndexes",
                "Effect": "Allow",
                "Action": "dynamodb:Query",
                "Resource": f"{table_arn}/index/*",
                "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["C#*"]}},
            },
            {
                "Sid": "AnyClinicObjects",
                "Effect": "Allow",
                "Action": list(OBJECT_ACTIONS),
                "Resource": f"{media_bucket_arn}/clinics/*",
            },
            {
                "Sid": "AnyClinicVersions",
                "Effect": "Allow",
                "Action": "s3:ListBucketVersions",
                "Resource": media_bucket_arn,
                "Condition": {"StringLike": {"s3:prefix": "clinics/*"}},
            },
            {
                "Sid": "AnyClinicArchive",
                "Effect": "Allow",
                "Action": list(ARCHIVE_ACTIONS),
                "Resource": f"{archive_bucket_arn}/verifactu/*",
            },
        ],
    }


def global_policy(*, table_arn: str) -> dict[str, Any]:
    """What the global path needs: the lookups on the table and the global index keys, never
    a clinic's partition (ADR 0012: the target policy of the functions' own roles)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "GlobalLookups",
                "Effect": "Allow",
                "Action": list(TABLE_ACTIONS),
                "Resource": table_arn,
                "Condition": {
                    "ForAllValues:StringLike": {"dynamodb:LeadingKeys": list(GLOBAL_KEYS)}
                },
            },
            {
                "Sid": "GlobalIndexes",
                "Effect": "Allow",
                "Action": "dynamodb:Query",
                "Resource": f"{table_arn}/index/*",
                "Condition": {
                    "ForAllValues:StringLike": {"dynamodb:LeadingKeys": list(GLOBAL_INDEX_KEYS)}
                },
            },
            {
                "Sid": "DescribeTable",
                "Effect": "Allow",
                "Action": "dynamodb:DescribeTable",
                "Resource": table_arn,
            },
        ],
    }


def packed(policy: Mapping[str, Any]) -> str:
    """The policy as sent to STS (compact: a session policy may have 2,048 characters)."""
    return json.dumps(policy, separators=(",", ":"))


# --- which keys a call names ---------------------------------------------------------------


def _hash_key_name(index_name: str | None) -> str:
    # The table's and its GSIs' partition keys (chalicelib/core/db.py): PK, GSI1PK, ...
    return f"{index_name}PK" if index_name else "PK"


def _value(attr: Any) -> str | None:
    if isinstance(attr, dict):
        v = attr.get("S")
        return v if isinstance(v, str) else None
    return None


def _query_key(params: Mapping[str, Any]) -> str | None:
    """The partition key value a Query names (its key condition ``<hash> = :v``)."""
    name = _hash_key_name(params.get("IndexName"))
    legacy = params.get("KeyConditions") or {}
    if name in legacy:
        values = legacy[name].get("AttributeValueList") or []
        return _value(values[0]) if values else None
    expr = params.get("KeyConditionExpression") or ""
    names = params.get("ExpressionAttributeNames") or {}
    values = params.get("ExpressionAttributeValues") or {}
    for left, right in re.findall(r"([#\w]+)\s*=\s*(:\w+)", expr):
        if names.get(left, left) == name:
            return _value(values.get(right))
    return None


def dynamodb_requests(
    operation: str, params: Mapping[str, Any]
) -> list[tuple[str, str, str | None, list[str]]]:
    """What a DynamoDB call asks, as IAM authorises it: ``(action, table, index, leading
    keys)`` per authorised part. Unknown operations give one part with no keys."""
    out: list[tuple[str, str, str | None, list[str]]] = []

    def pk(item: Mapping[str, Any] | None) -> list[str]:
        v = _value((item or {}).get("PK"))
        return [v] if v is not None else []

    if operation in ("GetItem", "DeleteItem", "UpdateItem"):
        out.append(
            (f"dynamodb:{operation}", params.get("TableName", ""), None, pk(params.get("Key")))
        )
    elif operation == "PutItem":
        out.append(("dynamodb:PutItem", params.get("TableName", ""), None, pk(params.get("Item"))))
    elif operation == "Query":
        key = _query_key(params)
        out.append(
            (
                "dynamodb:Query",
                params.get("TableName", ""),
                params.get("IndexName"),
                [key] if key is not None else [],
            )
        )
    elif operation == "BatchGetItem":
        for table, req in (params.get("RequestItems") or {}).items():
            keys = [k for key in req.get("Keys", []) for k in pk(key)]
            out.append(("dynamodb:BatchGetItem", table, None, keys))
    elif operation == "BatchWriteItem":
        for table, reqs in (params.get("RequestItems") or {}).items():
            keys: list[str] = []
            for r in reqs:
                keys += pk((r.get("PutRequest") or {}).get("Item"))
                keys += pk((r.get("DeleteRequest") or {}).get("Key"))
            out.append(("dynamodb:BatchWriteItem", table, None, keys))
    elif operation in ("TransactWriteItems", "TransactGetItems"):
        actions = {
            "Put": "PutItem",
            "Update": "UpdateItem",
            "Delete": "DeleteItem",
            "ConditionCheck": "ConditionCheckItem",
            "Get": "GetItem",
        }
        for entry in params.get("TransactItems") or []:
            for kind, op in entry.items():
                item = op.get("Item") if kind == "Put" else op.get("Key")
                out.append(
                    (f"dynamodb:{actions.get(kind, kind)}", op.get("TableName", ""), None, pk(item))
                )
    else:
        out.append((f"dynamodb:{operation}", params.get("TableName", ""), None, []))
    return out


def is_global_call(service: str, operation: str, params: Mapping[str, Any]) -> bool:
    """True when a DynamoDB call belongs on the global path (see the module's docstring)."""
    if service != "dynamodb":
        return False
    if operation in DESCRIBE_OPERATIONS:
        return True
    keys = [k for *_, ks in dynamodb_requests(operation, params) for k in ks]
    return bool(keys) and not any(k.startswith("C#") for k in keys)


# --- the current clinic ----------------------------------------------------------------------


def enabled() -> bool:
    return bool(os.environ.get("TENANT_ROLE_ARN"))


def current_clinic() -> str | None:
    return _clinic.get()


def owns_object(key: str) -> bool:
    """True when ``key`` is under the current clinic's media prefix and scoping is on."""
    cid = _clinic.get()
    return cid is not None and enabled() and key.startswith(f"clinics/{cid}/")


@contextmanager
def clinic(clinic_id: str) -> Iterator[None]:
    """Run the block's DynamoDB and S3 calls with this clinic's credentials."""
    token = _clinic.set(clinic_id)
    try:
        yield
    finally:
        _clinic.reset(token)


@contextmanager
def for_event(detail: Mapping[str, Any]) -> Iterator[None]:
    """Run an event consumer's work for one event with the credentials of the event's clinic
    (``detail.clinic_id``, which ``events.publish`` always sets). An event that names no plain
    clinic id runs on the function's own credentials, which reach no clinic's data: whatever
    it tries there is refused by AWS. Each event is its own unit of work (``adoptable``), so
    nothing of one event's scope leaks into the next."""
    with adoptable():
        cid = detail.get("clinic_id")
        if isinstance(cid, str) and is_plain_id(cid):
            with clinic(cid):
                yield
        else:
            yield


@contextmanager
def for_partition(pk: str) -> Iterator[None]:
    """Run a job's work on one item with the credentials of the clinic whose partition holds it
    (``C#<cid>``); an item of no clinic's partition runs unscoped."""
    cid = pk[2:] if pk.startswith("C#") else ""
    if is_plain_id(cid):
        with clinic(cid):
            yield
    else:
        yield


@contextmanager
def for_clinic(clinic_id: Any) -> Iterator[None]:
    """Run a job's work for a clinic id read from data (a due chain, a resolved link) with
    that clinic's credentials; an id that is not a plain id runs unscoped (no clinic's data is
    reachable there once the function's own role is narrowed)."""
    if isinstance(clinic_id, str) and is_plain_id(clinic_id):
        with clinic(clinic_id):
            yield
    else:
        yield


@contextmanager
def adoptable() -> Iterator[None]:
    """A unit of work whose clinic is learnt on the way (a public route once its link or token
    resolves, a device route once its key is found): :func:`adopt` inside the block scopes the
    rest of it, and the scope ends with the block (so a Lambda container's next invocation,
    on the same thread, starts unscoped). The API opens one around every request, the live
    socket's handler around every invocation, and :func:`for_event` around every event."""
    clinic_token = _clinic.set(None)
    slot_token = _slot.set(True)
    try:
        yield
    finally:
        _slot.reset(slot_token)
        _clinic.reset(clinic_token)


def adopt(clinic_id: str) -> None:
    """From here to the end of the enclosing :func:`adoptable` block, run with this clinic's
    credentials: called once a global lookup (a budget or appointment link, an invitation or
    password-reset token, a WhatsApp number, a device key) has said whose data the rest of the
    work touches. Adopting the clinic already in scope changes nothing; another clinic's is a
    bug (``RuntimeError``). Outside an ``adoptable`` block (a test calling a service directly)
    it does nothing: the function's own credentials sign, and once its role is narrowed they
    reach no clinic's data at all."""
    if not is_plain_id(clinic_id):
        raise ValueError("a clinic id for a scope must be a plain id")
    current = _clinic.get()
    if current == clinic_id:
        return
    if current is not None:
        raise RuntimeError("already working for another clinic")
    if _slot.get():
        _clinic.set(clinic_id)  # undone when the adoptable block resets it


@contextmanager
def bucket_level() -> Iterator[None]:
    """Run the block's S3 calls with the function's own credentials, for calls about a bucket
    itself, never an object (the health check's). The functions' own roles may make only the
    bucket-level calls the stack grants them, so an object call here is refused by AWS."""
    token = _bucket.set(True)
    try:
        yield
    finally:
        _bucket.reset(token)


@contextmanager
def unscoped() -> Iterator[None]:
    """Run the block with the function's own credentials (the global path), for the rare work
    that spans clinics on purpose (ADR 0012 lists where)."""
    token = _clinic.set(None)
    try:
        yield
    finally:
        _clinic.reset(token)


# --- credentials -----------------------------------------------------------------------------


class _Cache:
    """Each clinic's temporary credentials, until ``REFRESH_MARGIN_S`` before they expire."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._creds: dict[str, tuple[ReadOnlyCredentials, float]] = {}

    def clear(self) -> None:
        with self._lock:
            self._creds.clear()

    def get(self, clinic_id: str) -> ReadOnlyCredentials:
        hit = self._creds.get(clinic_id)
        if hit is not None and hit[1] - time.time() > REFRESH_MARGIN_S:
            return hit[0]
        with self._lock:
            lock = self._locks.setdefault(clinic_id, threading.Lock())
        with lock:  # one AssumeRole per clinic at a time; other clinics are not held up
            hit = self._creds.get(clinic_id)
            if hit is not None and hit[1] - time.time() > REFRESH_MARGIN_S:
                return hit[0]
            creds, expires = _assume(clinic_id)
            self._creds[clinic_id] = (creds, expires)
            return creds


def signing_expiry() -> float | None:
    """When the credentials that sign the current S3 call expire (epoch seconds): the current
    clinic's, if a scope is active and they are cached; None on the function's own credentials
    (their expiry is not this module's). A presigned URL or form stops working when they do,
    whatever expiry it was asked for (S3 User Guide, presigned URLs)."""
    cid = _clinic.get()
    if cid is None or not enabled():
        return None
    hit = cache._creds.get(cid)  # noqa: SLF001 - the cache is this module's
    return hit[1] if hit is not None else None


def _arns() -> dict[str, str]:
    from chalicelib.core.config import settings  # noqa: PLC0415 - config imports aws lazily

    cfg = settings()
    role = os.environ.get("TENANT_ROLE_ARN", "")
    # The partition and account come from the role's ARN: arn:<partition>:iam::<account>:...
    parts = role.split(":")
    partition, account = (parts[1], parts[4]) if len(parts) > 4 else ("aws", "")
    return {
        "table_arn": f"arn:{partition}:dynamodb:{cfg.region}:{account}:table/{cfg.table_name}",
        "media_bucket_arn": f"arn:{partition}:s3:::{cfg.media_bucket}",
        "archive_bucket_arn": f"arn:{partition}:s3:::{cfg.archive_bucket}",
    }


def _assume(clinic_id: str) -> tuple[ReadOnlyCredentials, float]:
    from chalicelib.core import aws  # noqa: PLC0415 - aws builds its clients with this module

    r = aws.client("sts").assume_role(
        RoleArn=os.environ["TENANT_ROLE_ARN"],
        RoleSessionName=f"clinic-{clinic_id}"[:64],
        Policy=packed(clinic_policy(clinic_id, **_arns())),
        DurationSeconds=DURATION_S,
    )
    c = r["Credentials"]
    return (
        ReadOnlyCredentials(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]),
        c["Expiration"].timestamp(),
    )


cache = _Cache()


class RoutedCredentials(Credentials):
    """Credentials whose value depends on the call being signed: the current clinic's, or the
    function's own on the global path (botocore calls ``get_frozen_credentials`` to sign)."""

    def __init__(self, base: Credentials | None, *, by_call: bool) -> None:
        # Not Credentials.__init__: this object holds no key of its own.
        self._base = base
        self._by_call = by_call
        self.method = "cuspide-clinic-scope"

    def get_frozen_credentials(self) -> ReadOnlyCredentials:  # type: ignore[override]
        cid = _clinic.get()
        if cid is not None and enabled() and not self.on_own_path():
            return cache.get(cid)
        if self._base is None:
            raise RuntimeError("no AWS credentials found for the global path")
        return self._base.get_frozen_credentials()

    def on_own_path(self) -> bool:
        """True when the call being signed belongs with the function's own credentials: a
        DynamoDB call on the global path, or an S3 call inside :func:`bucket_level`."""
        return _path.get() == "global" if self._by_call else _bucket.get()

    # botocore reads these directly in a few places (e.g. to tell if there are credentials).
    @property  # type: ignore[override]
    def access_key(self) -> str:
        return self.get_frozen_credentials().access_key

    @property  # type: ignore[override]
    def secret_key(self) -> str:
        return self.get_frozen_credentials().secret_key

    @property  # type: ignore[override]
    def token(self) -> str | None:
        return self.get_frozen_credentials().token


def _route(event_name: str, params: Mapping[str, Any] | None = None, **_: Any) -> None:
    # before-parameter-build.dynamodb.<Operation>: botocore emits it for every API call, just
    # before the call is signed, so each call says which path signs it (its retries sign the
    # same way).
    operation = event_name.rsplit(".", 1)[-1]
    _path.set("global" if is_global_call("dynamodb", operation, params or {}) else "clinic")


def session(service: str) -> botocore.session.Session:
    """A botocore session whose clients sign with :class:`RoutedCredentials`: DynamoDB calls
    are routed call by call; S3 calls inside a scope always use the clinic's credentials (no
    S3 object of the request path is global, and a bucket-level call has no business there).
    """
    s = botocore.session.Session()
    if service == "dynamodb":
        s.register("before-parameter-build.dynamodb", _route)
    base = s.get_credentials()
    routed = RoutedCredentials(base, by_call=service == "dynamodb")
    # A session keeps the credentials it resolved; every client it creates signs with them.
    s._credentials = routed  # noqa: SLF001 - botocore has no public setter for an object
    return s
