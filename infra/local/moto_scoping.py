"""The embedded AWS honours session policies: a request signed with credentials from
``AssumeRole`` with a ``Policy`` is refused unless that policy allows it, as AWS would.

moto keeps an assumed role's session policy but does not evaluate it (its IAM enforcement
covers users' and roles' actions only, and skips Resource and Condition: the "TODO" list at the
top of ``moto/iam/access_control.py``), so ``dynamodb:LeadingKeys`` and object prefixes would
go unchecked locally, and the clinic-scoped credentials of ADR 0012 would prove nothing in the
test suite or the local stack. This layer, applied in-process wherever moto runs as the local
AWS, evaluates the session policy of the calling credentials for every DynamoDB and S3
request:

* which credentials: the access key id of the SigV4 ``Authorization`` header, of a presigned
  URL's ``X-Amz-Credential``, or of a presigned POST form's ``x-amz-credential`` field;
* what is asked: the IAM action, resource ARN and ``dynamodb:LeadingKeys`` of each authorised
  part of the request (``chalicelib.core.scoping.dynamodb_requests``: a transaction is
  authorised item by item, an index query by the index's partition key);
* the verdict (:func:`allowed`): an explicit Deny wins, otherwise some Allow must match its
  Action, Resource and Condition. Only the condition operators the product's policies use are
  known (``StringLike``/``StringEquals``, plain or ``ForAllValues:``/``ForAnyValue:``); any
  other refuses, so a policy this layer cannot read fails closed.

Credentials without a session policy (the local stack's own ``local`` keys: the functions'
roles) are not checked here. Never part of the product.
"""

from __future__ import annotations

import fnmatch
import json
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from chalicelib.core.scoping import dynamodb_requests

ACCOUNT = "123456789012"  # moto's default account
KEYED_ACTIONS = frozenset(
    f"dynamodb:{a}"
    for a in (
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "ConditionCheckItem",
        "Query",
        "BatchGetItem",
        "BatchWriteItem",
    )
)
REGION_RE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/")

_policies: dict[str, dict[str, Any]] = {}  # access key id -> session policy
_lock = threading.Lock()
_applied = False


# --- evaluation ---------------------------------------------------------------------------


def _as_list(x: Any) -> list[Any]:
    return x if isinstance(x, list) else [x]


def _like(value: str, pattern: str) -> bool:
    # IAM wildcards: * any run, ? one character; nothing else is special.
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


def _match_op(op: str, value: str, patterns: list[str]) -> bool:
    if op == "StringLike":
        return any(_like(value, p) for p in patterns)
    if op == "StringEquals":
        return value in patterns
    raise KeyError(op)


def _condition(block: Mapping[str, Any], context: Mapping[str, list[str]]) -> bool:
    for full_op, tests in block.items():
        qualifier, _, op = full_op.rpartition(":")
        for key, wanted in tests.items():
            patterns = [str(p) for p in _as_list(wanted)]
            values = context.get(key)
            try:
                if qualifier == "ForAllValues":
                    ok = all(_match_op(op, v, patterns) for v in values or [])
                elif qualifier == "ForAnyValue":
                    ok = any(_match_op(op, v, patterns) for v in values or [])
                elif qualifier == "":
                    ok = (
                        values is not None
                        and len(values) == 1
                        and _match_op(op, values[0], patterns)
                    )
                else:
                    return False
            except KeyError:
                return False  # an operator this layer does not know: fail closed
            if not ok:
                return False
    return True


def _statement_matches(
    st: Mapping[str, Any], action: str, resource: str, context: Mapping[str, list[str]]
) -> bool:
    actions = [a.lower() for a in _as_list(st.get("Action", []))]
    if not any(fnmatch.fnmatchcase(action.lower(), a) for a in actions):
        return False
    if not any(_like(resource, r) for r in _as_list(st.get("Resource", []))):
        return False
    return _condition(st.get("Condition") or {}, context)


def allowed(
    policy: Mapping[str, Any], action: str, resource: str, context: Mapping[str, list[str]]
) -> bool:
    """IAM's verdict for one request under one policy: explicit Deny, else some Allow."""
    statements = _as_list(policy.get("Statement", []))
    if any(
        st.get("Effect") == "Deny" and _statement_matches(st, action, resource, context)
        for st in statements
    ):
        return False
    return any(
        st.get("Effect") == "Allow" and _statement_matches(st, action, resource, context)
        for st in statements
    )


def dynamodb_checks(
    operation: str, params: Mapping[str, Any], region: str
) -> Iterable[tuple[str, str, dict[str, list[str]]]]:
    """``(action, resource ARN, context)`` for each part of a DynamoDB request."""
    for action, table, index, keys in dynamodb_requests(operation, params):
        arn = f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{table}"
        if index:
            arn += f"/index/{index}"
        if not keys and action in KEYED_ACTIONS:
            # AWS always knows the keys; a request whose keys this layer cannot read must not
            # pass a ForAllValues condition as if it had none.
            yield action, arn, {"dynamodb:LeadingKeys": ["<unreadable key>"]}
            continue
        yield action, arn, {"dynamodb:LeadingKeys": keys}


def s3_check(method: str, bucket: str, key: str, query: Mapping[str, Any]) -> tuple[str, str]:
    """``(action, resource ARN)`` of an S3 request."""
    if not key:
        listing = "s3:ListBucketVersions" if "versions" in query else "s3:ListBucket"
        return (listing if method in ("GET", "HEAD") else f"s3:{method}Bucket"), (
            f"arn:aws:s3:::{bucket}"
        )
    tagging = "tagging" in query
    # A named version is authorised with the version action, as AWS does (GetObjectVersion...);
    # PUT and POST create a version, they never name one.
    v = "Version" if query.get("versionId") else ""
    action = {
        "GET": f"s3:GetObject{v}Tagging" if tagging else f"s3:GetObject{v}",
        "HEAD": f"s3:GetObject{v}",
        "PUT": f"s3:PutObject{v}Tagging" if tagging else "s3:PutObject",
        "POST": "s3:PutObject",
        "DELETE": f"s3:DeleteObject{v}",
    }.get(method, f"s3:{method}")
    return action, f"arn:aws:s3:::{bucket}/{key}"


# --- the hook -----------------------------------------------------------------------------


def _exists(backend: Any, bucket: str, key: str) -> bool:
    b = backend.buckets.get(bucket)
    return b is not None and key in b.keys


def policy_for(access_key_id: str | None) -> dict[str, Any] | None:
    if not access_key_id:
        return None
    with _lock:
        return _policies.get(access_key_id)


def _access_key(headers: Mapping[str, Any], query: Mapping[str, Any], form: Any = None) -> str:
    auth = str(headers.get("Authorization") or headers.get("authorization") or "")
    m = re.search(r"Credential=([^/,\s]+)/", auth)
    if m:
        return m.group(1)
    for source in (query, form or {}):
        for name in ("X-Amz-Credential", "x-amz-credential"):
            raw = source.get(name) if hasattr(source, "get") else None
            if isinstance(raw, list):
                raw = raw[0] if raw else None
            if raw:
                return unquote(str(raw)).split("/", 1)[0]
    return ""


def apply() -> None:
    """Record session policies as moto's STS hands out credentials, and check them on every
    DynamoDB and S3 request (idempotent)."""
    global _applied
    if _applied:
        return
    from moto.core.exceptions import JsonRESTError
    from moto.dynamodb.responses import DynamoHandler
    from moto.s3.exceptions import S3AccessDeniedError
    from moto.s3.responses import S3Response
    from moto.sts.models import STSBackend

    assume = STSBackend.assume_role

    def assume_role(self: Any, *args: Any, **kwargs: Any) -> Any:
        role = assume(self, *args, **kwargs)
        if role.policy:
            with _lock:
                _policies[role.access_key_id] = json.loads(role.policy)
        return role

    call_action = DynamoHandler.call_action

    def checked_call_action(self: Any) -> Any:
        policy = policy_for(_access_key(self.headers or {}, {}))
        if policy is not None:
            target = str(self.headers.get("X-Amz-Target") or "")
            operation = target.rsplit(".", 1)[-1]
            try:
                params = json.loads(self.body or "{}")
            except ValueError:
                params = {}
            m = REGION_RE.search(str(self.headers.get("Authorization") or ""))
            region = m.group(1) if m else "us-east-1"
            for action, arn, context in dynamodb_checks(operation, params, region):
                if not allowed(policy, action, arn, context):
                    err = JsonRESTError(
                        "AccessDeniedException",
                        f"User is not authorized to perform: {action} on resource: {arn} "
                        "because no session policy allows the action",
                    )
                    headers = {**dict(err.get_headers() or []), "status": err.code}
                    return err.code, headers, err.description
        return call_action(self)

    def checking(respond: Any, *, bucket_level: bool) -> Any:
        def wrapper(self: Any, request: Any, full_url: str, *args: Any, **kwargs: Any) -> Any:
            parsed = urlparse(full_url)
            query = parse_qs(parsed.query, keep_blank_values=True)
            form = getattr(request, "form", None) if request.method == "POST" else None
            policy = policy_for(_access_key(request.headers, query, form))
            if policy is not None:
                # Path-style (the product's clients): /<bucket>/<key>.
                bucket, _, key = unquote(parsed.path).lstrip("/").partition("/")
                if bucket_level and form is not None and form.get("key"):
                    key = str(form.get("key"))  # a presigned POST names its key in the form
                action, arn = s3_check(request.method, bucket, key, query)
                # A listing is authorised with its prefix (``s3:prefix``), as AWS does.
                context = (
                    {"s3:prefix": list(query["prefix"])} if not key and "prefix" in query else {}
                )
                if not allowed(policy, action, arn, context):
                    raise S3AccessDeniedError()
                if (
                    request.method in ("GET", "HEAD")
                    and key
                    and not _exists(self.backend, bucket, key)
                    and not allowed(policy, "s3:ListBucket", f"arn:aws:s3:::{bucket}", {})
                ):
                    # As S3 does: without s3:ListBucket a missing object is a 403, not a
                    # 404 (the caller may not learn which keys exist).
                    raise S3AccessDeniedError()
            return respond(self, request, full_url, *args, **kwargs)

        return wrapper

    STSBackend.assume_role = assume_role  # type: ignore[method-assign]
    DynamoHandler.call_action = checked_call_action  # type: ignore[method-assign]
    S3Response._key_response = checking(S3Response._key_response, bucket_level=False)  # type: ignore[method-assign]
    S3Response._bucket_response = checking(S3Response._bucket_response, bucket_level=True)  # type: ignore[method-assign]
    _applied = True
