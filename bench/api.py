"""Benchmark: DynamoDB calls and capacity per API route, at two clinic sizes; CPU per request;
the API's cold start against a bare Chalice app (issue 23).

    .venv/bin/python bench/api.py                      # 10 vs 10,000 patients, five years
    .venv/bin/python bench/api.py --quick              # 10 vs 500 patients, one year
    .venv/bin/python bench/api.py --patients 2000 --years 2 --routes agenda,invoices

Everything runs in one process: moto's ``mock_aws`` stands in for AWS (with the local stack's
DynamoDB corrections, ``infra/local/moto_dynamodb.py``), and the Chalice app is driven through
the same LocalGateway dispatch as the local server and the tests. Every route of the OpenAPI
document is called once against a small clinic and once against a large one (each mutating
route on an object prepared for it, uncounted); per route the table prints the DynamoDB calls
and the read/write units at both sizes and the large/small ratio. The goal is 1.0 everywhere
but on the routes whose job is to read everything (marked ``all``).

Calls are counted with botocore event hooks on every DynamoDB client the product makes (its
sessions come from ``chalicelib.core.scoping.session``). moto does not compute consumed
capacity (it answers fixed numbers), so units are computed from item sizes with DynamoDB's
rules: reads 4 KB units per item (GetItem, BatchGetItem) or per call over the items the
query read before any filter (Query: re-read without filter or projection to size them),
halved when eventually consistent; writes 1 KB units of the larger of the old and new item;
transactions twice that (condition checks billed as transactional writes, as AWS does).

The large clinic is seeded with batch writes of items built as the services build them:
patients through ``patients.service`` helpers (item, search-index items, audit entry);
appointments and invoices by cloning the exact items one real booking and one real issued
invoice wrote (new ids at the target time, dates shifted, the patient swapped), so every
item has the shape the services write. The template invoice's VERI*FACTU record is kept once
(its key is the chain's sequence number, which a clone cannot renew): the clones' book entries
all name it, and its huella still matches its fields.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import hmac
import io
import itertools
import json
import math
import os
import random
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PASSWORD = "correct-horse-battery"
PREFIX = "/api/v1"
# Routes whose job is to read everything: their calls grow with the data by design.
READS_ALL = {
    "GET /verifactu/chain/verify": "chain check",
    "GET /audit/export": "export",
    "GET /billing/treatments/export": "export",
    "GET /verifactu/book/issued": "export",
    "GET /verifactu/book/records": "export",
    "GET /reports/items/export": "export",
}
# Routes that cannot answer 2xx in this benchmark, and why (the table says so on their line).
NO_2XX = {
    "POST /verifactu/records/{record_id}/subsanacion": (
        "needs a record the AEAT rejected; only the AEAT's mutual-TLS web service (or the test "
        "suite's stub server) answers a submission"
    ),
}
# The clinic's Meta credentials (WhatsApp): Meta signs webhooks with the app secret.
WA_SECRET = "bench-app-secret-0123456789"
WA_VERIFY = "bench-verify-token-0123456789"
WA_ACCESS = "EAAG-bench-access-token-1234567890"
MAIN_ROUTES = ("login", "agenda day", "agenda week", "invoice issue", "patient search")


# --- environment ---------------------------------------------------------------------------


def _environment() -> Any:
    """The local stack's environment without an endpoint: mock_aws intercepts AWS's own."""
    from infra.local.provision import env_for
    from infra.resources import for_stage

    resources = for_stage("bench")
    os.environ.update(env_for(resources, "http://unused"))
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.pop("AWS_PROFILE", None)
    os.environ["TRUSTED_PROXY_HOPS"] = "1"
    os.environ["APP_URL"] = "http://app.bench"
    os.environ["LIVE_URL"] = "ws://127.0.0.1:9/live"  # the CDK stack sets it; a ticket names it
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"  # one line per request would drown the table
    return resources


def graph_standin() -> None:
    """Meta's Graph API as the local stack stands it in (``infra/local/outbox.py``), served on
    127.0.0.1 for the product's WhatsApp client (``WHATSAPP_GRAPH_URL``): nothing leaves the
    machine, and sends, tests and templates get the Cloud API's answers."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from infra.local.outbox import Outbox, graph_url

    outbox = Outbox(os.environ["AWS_REGION"])

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            r = outbox.graph(self.path, self.command, body)
            self.send_response(r.status)
            for k, v in r.headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(r.body)))
            self.end_headers()
            self.wfile.write(r.body)

        do_GET = do_POST = _answer

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    os.environ["WHATSAPP_GRAPH_URL"] = graph_url(f"http://127.0.0.1:{server.server_address[1]}")


# --- counting ------------------------------------------------------------------------------


def _attr_size(v: dict[str, Any]) -> int:
    ((kind, x),) = v.items()
    if kind == "S":
        return len(x.encode())
    if kind == "N":
        digits = len(str(x).lstrip("-").replace(".", "").lstrip("0")) or 1
        return 1 + (digits + 1) // 2
    if kind == "B":
        return len(x) if isinstance(x, bytes | bytearray) else len(str(x))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in x)
    if kind == "NS":
        return sum(1 + (len(str(n)) + 1) // 2 for n in x)
    if kind == "BS":
        return sum(len(b) for b in x)
    if kind == "L":
        return 3 + sum(1 + _attr_size(e) for e in x)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + _attr_size(e) for k, e in x.items())
    return 0


def item_size(item: dict[str, Any] | None) -> int:
    """DynamoDB's item size: attribute names plus values (docs: "Item sizes and formats")."""
    if not item:
        return 0
    return sum(len(k.encode()) + _attr_size(v) for k, v in item.items())


def _rcu(nbytes: int, consistent: bool) -> float:
    units = max(1, math.ceil(nbytes / 4096))
    return units if consistent else units / 2


def _wcu(nbytes: int) -> float:
    return max(1, math.ceil(nbytes / 1024))


@dataclass
class Tally:
    calls: int = 0
    rcu: float = 0.0
    wcu: float = 0.0
    ops: dict[str, int] = field(default_factory=dict)
    aws_cpu: float = 0.0  # process time inside botocore calls (moto included)
    trace: list[str] = field(default_factory=list)  # each call, in order


class Meter:
    """Counts DynamoDB calls and their units while ``active`` is set; ``raw`` is a client of
    its own (not counted) that sizes what a call read or wrote."""

    def __init__(self) -> None:
        self.tally: Tally | None = None
        self.touched: set[tuple[str, str]] | None = None  # keys written, for seeding templates
        self.sizing = True  # off while timing CPU: sizing reads would be timed too
        self._raw: Any = None
        self.table = os.environ["TABLE_NAME"]

    @property
    def raw(self) -> Any:
        if self._raw is None:
            import boto3

            self._raw = boto3.client("dynamodb", region_name=os.environ["AWS_REGION"])
        return self._raw

    @contextlib.contextmanager
    def count(self) -> Iterator[Tally]:
        t = Tally()
        self.tally = t
        try:
            yield t
        finally:
            self.tally = None

    @contextlib.contextmanager
    def capture(self) -> Iterator[set[tuple[str, str]]]:
        keys: set[tuple[str, str]] = set()
        self.touched = keys
        try:
            yield keys
        finally:
            self.touched = None

    # -- sizing helpers
    def _get(self, key: dict[str, Any], table: str | None = None) -> dict[str, Any] | None:
        r = self.raw.get_item(TableName=table or self.table, Key=key, ConsistentRead=True)
        return r.get("Item")

    @staticmethod
    def _key(item: dict[str, Any]) -> dict[str, Any]:
        return {"PK": item["PK"], "SK": item["SK"]}

    def _write_items(self, op: str, params: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        """(kind, key) of each item a write call touches; kind says how it is billed."""
        out: list[tuple[str, dict[str, Any]]] = []
        if op in ("PutItem",):
            out.append(("put", self._key(params["Item"])))
        elif op in ("UpdateItem", "DeleteItem"):
            out.append(("put", params["Key"]))
        elif op == "BatchWriteItem":
            for reqs in params["RequestItems"].values():
                for r in reqs:
                    if "PutRequest" in r:
                        out.append(("put", self._key(r["PutRequest"]["Item"])))
                    else:
                        out.append(("put", r["DeleteRequest"]["Key"]))
        elif op == "TransactWriteItems":
            for t in params["TransactItems"]:
                ((kind, body),) = t.items()
                key = self._key(body["Item"]) if kind == "Put" else body["Key"]
                out.append(("check" if kind == "ConditionCheck" else "tx", key))
        return out

    # -- botocore hooks
    def before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if self.tally is None and self.touched is None:
            return
        op = model.name
        context["bench_params"] = params
        if (
            self.tally is not None
            and self.sizing
            and op
            in (
                "PutItem",
                "UpdateItem",
                "DeleteItem",
                "BatchWriteItem",
                "TransactWriteItems",
            )
        ):
            context["bench_old"] = [
                (kind, key, item_size(self._get(key)))
                for kind, key in self._write_items(op, params)
            ]

    def after(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        params = context.get("bench_params")
        if params is None:
            return
        op = model.name
        if self.touched is not None:
            for _kind, key in self._write_items(op, params):
                self.touched.add((key["PK"]["S"], key["SK"]["S"]))
        t = self.tally
        if t is None:
            return
        t.calls += 1
        t.ops[op] = t.ops.get(op, 0) + 1
        t.trace.append(f"{op}{'/' + params['IndexName'] if 'IndexName' in params else ''}")
        if "Error" in parsed or not self.sizing:
            return
        consistent = bool(params.get("ConsistentRead"))
        if op == "GetItem":
            t.rcu += _rcu(item_size(parsed.get("Item")), consistent)
        elif op == "BatchGetItem":
            for table, req in params["RequestItems"].items():
                got = parsed.get("Responses", {}).get(table, [])
                c = bool(req.get("ConsistentRead"))
                t.rcu += sum(_rcu(item_size(i), c) for i in got)
                t.rcu += _rcu(0, c) * max(0, len(req["Keys"]) - len(got))
        elif op == "Query":
            t.rcu += self._query_rcu(params, parsed)
        elif op == "TransactGetItems":
            for r in parsed.get("Responses", []):
                t.rcu += 2 * _rcu(item_size(r.get("Item")), True)
        elif op == "Scan":
            t.rcu += _rcu(sum(item_size(i) for i in parsed.get("Items", [])), consistent)
        for kind, key, old in context.get("bench_old", []):
            new = item_size(self._get(key))
            units = _wcu(max(old, new))
            t.wcu += 2 * units if kind in ("tx", "check") else units

    def _query_rcu(self, params: dict[str, Any], parsed: dict[str, Any]) -> float:
        consistent = bool(params.get("ConsistentRead"))
        filtered = any(k in params for k in ("FilterExpression", "ProjectionExpression"))
        if not filtered and params.get("Select") not in ("COUNT", "SPECIFIC_ATTRIBUTES"):
            return _rcu(sum(item_size(i) for i in parsed.get("Items", [])), consistent)
        # What the query read before its filter/projection: the same key range, unfiltered.
        p = {
            k: v
            for k, v in params.items()
            if k
            in (
                "TableName",
                "IndexName",
                "KeyConditionExpression",
                "ExclusiveStartKey",
                "Limit",
                "ScanIndexForward",
                "ConsistentRead",
            )
        }
        expr = params["KeyConditionExpression"]
        if "ExpressionAttributeNames" in params:
            p["ExpressionAttributeNames"] = {
                k: v for k, v in params["ExpressionAttributeNames"].items() if k in expr
            }
        p["ExpressionAttributeValues"] = {
            k: v
            for k, v in params.get("ExpressionAttributeValues", {}).items()
            if re.search(re.escape(k) + r"\b", expr)
        }
        if not p.get("ExpressionAttributeNames"):
            p.pop("ExpressionAttributeNames", None)
        items = self.raw.query(**p).get("Items", [])
        if "Limit" not in params and parsed.get("LastEvaluatedKey") is None:
            pass  # the unfiltered read covers the same range
        return _rcu(sum(item_size(i) for i in items), consistent)

    def install(self) -> None:
        """Hook every DynamoDB client the product makes, and time every botocore call."""
        import botocore.client

        from chalicelib.core import scoping

        real_session = scoping.session
        meter = self

        def session(service: str) -> Any:
            s = real_session(service)
            if service == "dynamodb":
                s.register("provide-client-params.dynamodb", meter.before)
                s.register("after-call.dynamodb", meter.after)
            return s

        scoping.session = session  # type: ignore[assignment]
        real_call = botocore.client.BaseClient._make_api_call
        depth = [0]

        def timed(client: Any, operation: str, params: dict[str, Any]) -> Any:
            if meter.tally is None or depth[0]:
                return real_call(client, operation, params)
            depth[0] += 1
            t0 = time.process_time()
            try:
                return real_call(client, operation, params)
            finally:
                depth[0] -= 1
                if meter.tally is not None:
                    meter.tally.aws_cpu += time.process_time() - t0

        botocore.client.BaseClient._make_api_call = timed  # type: ignore[method-assign]


# --- the API -------------------------------------------------------------------------------


@dataclass
class Resp:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def data(self) -> Any:
        return self.json()["data"]


class Client:
    def __init__(self, app: Any) -> None:
        from infra.local.server import make_gateway

        self.gateway = make_gateway(app)
        self._ips = itertools.count(1)

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Resp:
        from infra.local.server import dispatch_api

        n = next(self._ips)
        h = {
            "Content-Type": "application/json",
            "X-Forwarded-For": f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}",
            "User-Agent": "bench",
        }
        if token:
            h["Authorization"] = f"Bearer {token}"
        h.update(headers or {})
        # bytes are sent as they are (a public page's form post, with its own Content-Type)
        data = (
            body if isinstance(body, bytes) else None if body is None else json.dumps(body).encode()
        )
        url = path if path.startswith(PREFIX) else PREFIX + path
        r = dispatch_api(self.gateway, method, url, h, data)
        return Resp(r.status, r.body)


@dataclass
class Clinic:
    name: str
    clinic_id: str
    admin_id: str
    email: str
    token: str
    ids: dict[str, str] = field(default_factory=dict)
    signed_at: float = field(default_factory=time.monotonic)
    device_key: str = ""
    patients: list[str] = field(default_factory=list)
    wa_number_id: str = ""  # the clinic's WhatsApp phone_number_id (set when first connected)
    wa_connected: bool = False


def _ok(r: Resp, what: str) -> Any:
    if r.status >= 300:
        raise RuntimeError(f"{what}: {r.status} {r.body[:400]!r}")
    return r.data() if r.body else None


def signup(api: Client, name: str) -> Clinic:
    email = f"admin+{random.randrange(10**9)}@bench.example"
    body = {
        "clinic": {"name": name, "country": "ES", "time_zone": "Europe/Madrid", "currency": "EUR"},
        "admin": {"name": "Ana Admin", "email": email, "password": PASSWORD},
    }
    d = _ok(api.call("POST", "/clinics/signup", body), "signup")
    from chalicelib.identity import service as identity_service

    identity_service.set_plan(d["clinic"]["clinic_id"], "pro_plus")
    return Clinic(name, d["clinic"]["clinic_id"], d["user"]["user_id"], email, d["access_token"])


def patient_body(i: int, rnd: random.Random) -> dict[str, Any]:
    return {
        "first_name": rnd.choice(FIRST),
        "last_name": rnd.choice(LAST),
        "second_last_name": rnd.choice(LAST),
        "date_of_birth": str(date(1950, 1, 1) + timedelta(days=rnd.randrange(20000))),
        "phone": f"+346{i:08d}",
        "email": f"p{i}@mail.example",
        "confirm_duplicate": True,
    }


FIRST = ["Lucía", "Hugo", "Martina", "Mateo", "Sofía", "Leo", "Julia", "Pablo", "Vega", "Álvaro"]
FIRST += ["Carmen", "Javier", "Elena", "Diego", "Paula", "Marcos", "Irene", "Adrián", "Noa", "Iker"]
LAST = ["García", "Rodríguez", "González", "Fernández", "López", "Martínez", "Sánchez", "Pérez"]
LAST += ["Gómez", "Martín", "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno", "Muñoz", "Álvarez"]


def setup_clinic(api: Client, name: str) -> Clinic:
    """A clinic with one of each thing a path names (as tests/fuzz seeds it)."""
    c = signup(api, name)
    tok = c.token
    issuer = {
        "legal_name": f"{name} Dental, S.L.",
        "tax_id": "B12345674",
        "address": {
            "line1": "Calle Mayor 1",
            "city": "Madrid",
            "postal_code": "28013",
            "country": "ES",
        },
    }
    _ok(api.call("PATCH", "/clinics/current", issuer, tok), "clinic profile")

    def made(path: str, body: dict[str, Any], key: str) -> str:
        return _ok(api.call("POST", path, body, tok), path)[key]

    rnd = random.Random(1)
    # A surname no other patient has: the search route finds one patient at both sizes.
    first = {**patient_body(0, rnd), "last_name": "Zubizarreta"}
    c.ids["patient_id"] = made("/patients", first, "patient_id")
    c.patients.append(c.ids["patient_id"])
    c.ids["treatment_id"] = made(
        "/billing/treatments", {"code": "BN1", "name_es": "Limpieza", "price": "50"}, "treatment_id"
    )
    c.ids["cabinet_id"] = made("/agenda/cabinets", {"name": "Gabinete 1"}, "cabinet_id")
    c.ids["cabinet2_id"] = made("/agenda/cabinets", {"name": "Gabinete 2"}, "cabinet_id")
    device = {"name": "Sensor", "defaults": {"kind": "xray"}}
    c.ids["device_id"] = made("/bridge/devices", device, "device")["device_id"]
    c.device_key = made("/bridge/devices", device, "api_key")
    c.ids["clinic_id"] = c.clinic_id
    return c


# --- seeding the large clinic --------------------------------------------------------------

ULID_RE = re.compile(r"\b[0-7][0-9A-HJKMNP-TV-Z]{25}\b")
DT_RE = re.compile(
    r"(?<![\d-])(\d{4})-(\d{2})-(\d{2})"
    r"(?:([T ])(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?)?(Z|[+-]\d{2}:\d{2})?(?![\d])"
)
ES_DATE_RE = re.compile(r"(?<![\d-])(\d{2})-(\d{2})-(\d{4})(?![\d-])")


def _ulid_at(dt: datetime, rnd: random.Random) -> str:
    from ulid import ULID

    head = str(ULID.from_timestamp(dt.timestamp()))[:10]
    return head + "".join(rnd.choice("0123456789ABCDEFGHJKMNPQRSTVWXYZ") for _ in range(16))


def _ulid_time(s: str) -> float:
    from ulid import ULID

    try:
        return ULID.from_str(s).timestamp
    except ValueError:
        return -1.0


class Retimer:
    """Moves items written at ``t0`` to another moment: every id made during the template
    (a ULID of ``t0`` or later) becomes a fresh id of the target time, dates and times shift by
    the same amount, and ``swap`` replaces other ids (the template's patient by another)."""

    def __init__(self, t0: float, t1: float) -> None:
        # To the millisecond (a ULID's precision), with no margin: a margin renewed the ids
        # made just before the template too, and a small clinic is set up in under a second,
        # so its clinic, cabinet and patient ids were renewed and its clones landed nowhere.
        self.t0, self.t1 = math.floor(t0 * 1000) / 1000, math.ceil(t1 * 1000) / 1000

    def clone(
        self,
        items: list[dict[str, Any]],
        delta: timedelta,
        swap: dict[str, str],
        rnd: random.Random,
    ) -> list[dict[str, Any]]:
        text = json.dumps(items)
        fresh: dict[str, str] = dict(swap)

        def ulid(m: re.Match[str]) -> str:
            s = m.group(0)
            if s in fresh:
                return fresh[s]
            t = _ulid_time(s)
            if self.t0 <= t <= self.t1:
                fresh[s] = _ulid_at(datetime.fromtimestamp(t, UTC) + delta, rnd)
                return fresh[s]
            return s

        def dt(m: re.Match[str]) -> str:
            y, mo, d, sep, hh, mm, ss, frac, tz = m.groups()
            try:
                base = datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0))
            except ValueError:
                return m.group(0)
            if not 2000 < base.year < 2100:
                return m.group(0)
            moved = base + delta
            out = moved.strftime("%Y-%m-%d")
            if sep:
                out += f"{sep}{moved:%H:%M}"
                if ss is not None:
                    out += f":{moved:%S}"
                if frac:
                    out += frac
            return out + (tz or "")

        def es(m: re.Match[str]) -> str:
            d, mo, y = m.groups()
            try:
                moved = datetime(int(y), int(mo), int(d)) + delta
            except ValueError:
                return m.group(0)
            return f"{moved:%d-%m-%Y}"

        text = ULID_RE.sub(ulid, text)
        text = DT_RE.sub(dt, text)
        text = ES_DATE_RE.sub(es, text)
        return json.loads(text)


def batch_write(meter: Meter, items: list[dict[str, Any]]) -> None:
    """Store items as a BatchWriteItem would, straight into moto's table: the same items
    without a request's serialising and signing, which made seeding a large clinic take most
    of an hour. The last write of a key wins."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends[DEFAULT_ACCOUNT_ID][os.environ["AWS_REGION"]].get_table(meter.table)
    for item in items:
        table.put_item(item)


def read_items(meter: Meter, keys: set[tuple[str, str]]) -> list[dict[str, Any]]:
    out = []
    for pk, sk in sorted(keys):
        item = meter._get({"PK": {"S": pk}, "SK": {"S": sk}})
        if item is not None:
            out.append(item)
    return out


def _principal(c: Clinic) -> Any:
    from chalicelib.core import rbac
    from chalicelib.core.api import Principal

    return Principal(
        user_id=c.admin_id,
        clinic_id=c.clinic_id,
        session_id="bench",
        role="admin",
        plan="pro_plus",
        permissions=frozenset(rbac.PERMISSIONS),
        name="Ana Admin",
    )


def seed_patients(meter: Meter, c: Clinic, n: int, years: int, rnd: random.Random) -> None:
    """Patients built exactly as ``patients.service.create`` builds them (item, search-index
    items, audit entry), created at random moments of the last ``years``."""
    from chalicelib.core import audit, scoping
    from chalicelib.core.db import clinic_pk
    from chalicelib.core.ids import new_id, now
    from chalicelib.patients import service as ps
    from chalicelib.patients.models import Patient, PatientIndex

    principal = _principal(c)
    cid = c.clinic_id
    t0 = time.time()
    retimer = Retimer(t0, t0 + 10**6)
    batch: list[dict[str, Any]] = []
    span = years * 365 * 86400
    with scoping.clinic(cid):
        for i in range(1, n):
            v = patient_body(i, rnd)
            v.pop("confirm_duplicate")
            pid, at = new_id(), now()
            p = Patient(
                *Patient.key(cid, pid), patient_id=pid, created_at=at, updated_at=at, version=1
            )
            ps._apply(cid, p, v)  # noqa: SLF001 - the service's own item builder
            items = [p] + [
                PatientIndex(clinic_pk(cid), sk, patient_id=pid)
                for sk in ps.index_keys(cid, pid, v)
            ]
            items.append(
                audit.entry(cid, principal.actor, "patient.created", "patient", pid, after=v)
            )
            raw = [_serialize(x) for x in items]
            delta = -timedelta(seconds=rnd.randrange(span))
            raw = retimer.clone(raw, delta, {}, rnd)
            c.patients.append(raw[0]["patient_id"]["S"])
            batch += raw
            if len(batch) >= 500:
                batch_write(meter, batch)
                batch = []
    batch_write(meter, batch)


def _serialize(model: Any) -> dict[str, Any]:
    from pynamodb.attributes import AttributeContainer  # noqa: F401

    return model.serialize()


def template(meter: Meter, fn: Callable[[], Any]) -> tuple[list[dict[str, Any]], float, float]:
    """Run ``fn`` (real API calls) and return the final image of every item it wrote."""
    t0 = time.time()
    with meter.capture() as keys:
        fn()
    t1 = time.time()
    return read_items(meter, keys), t0, t1


# Items kept once, never cloned: counters, chain heads... and the VERI*FACTU record, whose key is
# the chain's sequence number, not an id a clone could renew: every clone would overwrite the one
# record with shifted dates under the template's Huella, which the book export then refuses.
SINGLETON_SK = re.compile(
    r"^(CTR#|COUNTER#|SEQ#|VF#HEAD|VFHEAD|VFREC#|CHAIN#|RL#|SESSION#|BUDGETCTR)"
)


def seed_history(
    api: Client,
    meter: Meter,
    c: Clinic,
    days: int,
    per_day: int,
    invoices_per_day: int,
    rnd: random.Random,
) -> dict[str, int]:
    """Appointments and issued invoices over the last ``days`` and the coming week: one real
    booking and one real
    issued invoice are the templates, cloned onto past working days."""
    tok = c.token
    first = (datetime.now(UTC) + timedelta(days=30)).date()
    while first.weekday() >= 5:
        first += timedelta(days=1)
    start = f"{first}T09:00"

    def book() -> None:
        body = {
            "patient_id": c.ids["patient_id"],
            "professional_id": c.admin_id,
            "cabinet_id": c.ids["cabinet_id"],
            "start": start,
            "duration_min": 30,
            "reason": "Revisión",
            "override": True,
        }
        _ok(api.call("POST", "/appointments", body, tok), "template booking")

    appt, a0, a1 = template(meter, book)
    appt = [i for i in appt if not SINGLETON_SK.match(i["SK"]["S"])]

    def invoice() -> None:
        body = {
            "patient_id": c.ids["patient_id"],
            "lines": [{"treatment_id": c.ids["treatment_id"]}],
        }
        inv = _ok(api.call("POST", "/billing/invoices", body, tok), "template invoice")
        _ok(
            api.call("POST", f"/billing/invoices/{inv['invoice_id']}/issue", None, tok),
            "template issue",
        )

    inv, i0, i1 = template(meter, invoice)
    heads = [i["SK"]["S"] for i in inv if SINGLETON_SK.match(i["SK"]["S"])]
    inv = [i for i in inv if not SINGLETON_SK.match(i["SK"]["S"])]
    print(
        f"  templates: booking writes {len(appt)} items, invoice+issue {len(inv)} "
        f"(+ {heads} kept once)"
    )
    ra, ri = Retimer(a0, a1), Retimer(i0, i1)
    base = datetime.combine(first, datetime.min.time())
    today = datetime.now(UTC).date()
    day = today - timedelta(days=days)
    batch: list[dict[str, Any]] = []
    n_appt = n_inv = 0
    cabinets = [c.ids["cabinet_id"], c.ids["cabinet2_id"]]
    while day < today + timedelta(days=7):  # the coming week is booked too
        if day.weekday() < 5:
            for k in range(per_day):
                cab = cabinets[k % 2]  # one professional, alternate cabinets, 30-minute slots
                slot = datetime.combine(day, datetime.min.time()) + timedelta(
                    hours=9, minutes=30 * k
                )
                delta = slot - (base + timedelta(hours=9))
                swap = {c.ids["patient_id"]: rnd.choice(c.patients), c.ids["cabinet_id"]: cab}
                batch += ra.clone(appt, delta, swap, rnd)
                n_appt += 1
            for k in range(invoices_per_day):
                moment = datetime.combine(day, datetime.min.time()) + timedelta(hours=10, minutes=k)
                delta = moment - datetime.fromtimestamp(i0, UTC).replace(tzinfo=None)
                swap = {c.ids["patient_id"]: rnd.choice(c.patients)}
                batch += ri.clone(inv, delta, swap, rnd)
                n_inv += 1
        if len(batch) >= 1000:
            batch_write(meter, batch)
            batch = []
        day += timedelta(days=1)
    batch_write(meter, batch)
    return {"appointments": n_appt, "invoices": n_inv}


# --- the routes ----------------------------------------------------------------------------


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def example(doc: dict[str, Any], schema: dict[str, Any], name: str = "") -> Any:
    """A small valid instance of ``schema``: required fields only, examples when given."""
    s = _resolve(doc, schema)
    for key in ("anyOf", "oneOf"):
        if key in s:
            options = [o for o in s[key] if _resolve(doc, o).get("type") != "null"]
            return example(doc, options[0], name) if options else None
    if "allOf" in s:
        return example(doc, s["allOf"][0], name)
    if "const" in s:
        return s["const"]
    if "enum" in s:
        return s["enum"][0]
    if "default" in s and s.get("type") != "object":
        return s["default"]
    if s.get("examples"):
        return s["examples"][0]
    t = s.get("type")
    if t == "object" or "properties" in s:
        props = s.get("properties", {})
        return {k: example(doc, props[k], k) for k in s.get("required", []) if k in props}
    if t == "array":
        return [example(doc, s.get("items", {}), name) for _ in range(s.get("minItems", 0))]
    if t == "integer":
        return s.get("minimum", 1)
    if t == "number":
        return s.get("minimum", 1)
    if t == "boolean":
        return False
    fmt = s.get("format")
    if fmt == "date":
        return str(date.today())
    if fmt == "date-time":
        return datetime.now(UTC).isoformat()
    if fmt == "email" or "email" in name:
        return f"x{random.randrange(10**9)}@bench.example"
    n = max(1, s.get("minLength", 1))
    return ("Bench " + "x" * n)[: max(n, s.get("maxLength", 20))]


@dataclass
class Case:
    path: str
    body: Any = None
    auth: str | None = "bearer"  # "bearer", "device" or None
    headers: dict[str, str] = field(default_factory=dict)


class Ctx:
    """What a route's preparation needs: the client, the clinic, the OpenAPI document."""

    def __init__(self, api: Client, c: Clinic, doc: dict[str, Any]) -> None:
        self.api, self.c, self.doc = api, c, doc
        self.n = 0

    @property
    def token(self) -> str:
        # Access tokens live 15 minutes; a long run signs in again before that.
        if time.monotonic() - self.c.signed_at > 10 * 60:
            body = {"email": self.c.email, "password": PASSWORD}
            self.c.token = _ok(self.api.call("POST", "/auth/login", body), "login")["access_token"]
            self.c.signed_at = time.monotonic()
        return self.c.token

    def post(self, path: str, body: Any = None) -> Any:
        return _ok(self.api.call("POST", path, body, self.token), path)

    def patient(self) -> str:
        self.n += 1
        return self.post("/patients", patient_body(900000 + self.n, random.Random(self.n)))[
            "patient_id"
        ]

    def invoice(self, issue: bool = False) -> str:
        body = {
            "patient_id": self.c.ids["patient_id"],
            "lines": [{"treatment_id": self.c.ids["treatment_id"]}],
        }
        iid = self.post("/billing/invoices", body)["invoice_id"]
        if issue:
            self.post(f"/billing/invoices/{iid}/issue")
        return iid

    def budget(self) -> str:
        body = {
            "patient_id": self.c.ids["patient_id"],
            "lines": [{"treatment_id": self.c.ids["treatment_id"]}],
        }
        return self.post("/billing/budgets", body)["budget_id"]

    def appointment(self, patient_id: str | None = None) -> str:
        self.n += 1
        start = datetime.now(UTC).date() + timedelta(days=40 + self.n)
        body = {
            "patient_id": patient_id or self.patient(),
            "professional_id": self.c.admin_id,
            "cabinet_id": self.c.ids["cabinet_id"],
            "start": f"{start}T10:00",
            "duration_min": 30,
            "reason": "Revisión",
            "override": True,
        }
        return self.post("/appointments", body)["appointment_id"]

    def image(self) -> str:
        path = "/patients/{patient_id}/images"
        body = {**self.body_of("POST", path), "content_type": "image/jpeg"}
        return self.post(path.replace("{patient_id}", self.c.ids["patient_id"]), body)["image"][
            "image_id"
        ]

    def put(self, path: str, body: Any = None) -> Any:
        return _ok(self.api.call("PUT", path, body, self.token), path)

    def named_patient(self) -> tuple[str, str]:
        """(patient_id, full name) of a new patient: an erasure is confirmed by the name."""
        self.n += 1
        body = patient_body(900000 + self.n, random.Random(self.n))
        name = " ".join(body[k] for k in ("first_name", "last_name", "second_last_name"))
        return self.post("/patients", body)["patient_id"], name

    def online_booking(self) -> str:
        """The type id of the clinic's online booking, switched on the first time: one
        30-minute type with the admin in the first cabinet, bookable from now on."""
        # The agenda drivers leave the hours as their generated body set them (closed every
        # day): the clinic opens on weekdays again, as booking needs open hours.
        day = [{"start": "09:00", "end": "20:00"}]
        self.put("/agenda/hours", {d: day for d in WEEKDAYS})
        if "booking_type" not in self.c.ids:
            body = {
                "enabled": True,
                "min_notice_hours": 0,
                "types": [
                    {
                        "name_es": "Revisión",
                        "name_en": "Check-up",
                        "duration_min": 30,
                        "professional_ids": [self.c.admin_id],
                        "cabinet_ids": [self.c.ids["cabinet_id"]],
                        "reason": "Revisión",
                    }
                ],
            }
            self.c.ids["booking_type"] = self.put("/booking/settings", body)["types"][0]["type_id"]
        return self.c.ids["booking_type"]

    def booking_form(self) -> bytes:
        """The public page's form that books the first free slot it offers, as an invited
        patient (the invitation a recall mails: no code step)."""
        from urllib.parse import parse_qs, unquote, urlencode, urlsplit

        from chalicelib.booking import invites

        tid = self.online_booking()
        page = self.api.call("GET", f"/public/booking/{self.c.clinic_id}?{_free_week(tid)}").body
        found = re.search(r"start=([0-9T:%A-F-]{16,20})", page.decode())
        assert found, f"the booking page offered no free slot: {page.decode()[-3000:]}"
        url = invites.invite_url(self.c.clinic_id, self.patient())
        form = {
            "step": "book",
            "type": tid,
            "start": unquote(found.group(1)),
            "invite": parse_qs(urlsplit(url).query)["invite"][0],
            "lang": "es",
        }
        return urlencode(form).encode()

    def recall_rule(self) -> str:
        body = {"name_es": f"Revisión {self.n}", "codes": ["REV"], "interval_months": 6}
        return self.post("/recalls/rules", body)["rule_id"]

    def consent(self, patient_id: str) -> str:
        body = {"granted": True, "source": "paper_form"}
        self.put(f"/comms/patients/{patient_id}/consents/email", body)
        return patient_id

    def recall(self) -> tuple[str, str]:
        """(patient_id, rule_id) of a recall due in a month, of a patient who consented to
        email."""
        p, rule = self.consent(self.patient()), self.recall_rule()
        due = str(datetime.now(UTC).date() + timedelta(days=30))
        self.put(f"/patients/{p}/recalls/{rule}", {"due": due})
        return p, rule

    def budget_followup(self) -> tuple[str, str]:
        """(patient_id, followup_id) of a sent budget's follow-up, opened as the recalls
        consumer opens it on ``budget.sent`` (the benchmark runs no queue)."""
        from chalicelib.recalls import consumer, followups

        b = self.sent_budget()
        detail = {"clinic_id": self.c.clinic_id, "budget_id": b}
        consumer.handle("budget.sent", detail)
        return self.consent(self.c.ids["patient_id"]), followups.fid_budget(b)

    def sent_budget(self) -> str:
        return self.budget_link()[0]

    def budget_link(self) -> tuple[str, str]:
        """(budget_id, token) of a budget sent to the patient: the token of its public link."""
        b = self.budget()
        link = self.post(f"/billing/budgets/{b}/send", {"valid_days": 15})["link"]
        return b, link.rsplit("/", 1)[-1]

    def accepted_budget(self) -> str:
        b = self.sent_budget()
        self.post(f"/billing/budgets/{b}/accept", {"signer_name": "Ana García"})
        return b

    def paid_invoice(self) -> str:
        iid = self.invoice(issue=True)
        self.post(f"/billing/invoices/{iid}/payments", {"amount": "10", "method": "cash"})
        return iid

    def payment(self) -> str:
        iid = self.invoice(issue=True)
        body = {"amount": "10", "method": "cash"}
        return self.post(f"/billing/invoices/{iid}/payments", body)["payment"]["payment_id"]

    def pair(self) -> str:
        body = {"before_id": self.image(), "after_id": self.image()}
        return self.post(f"/patients/{self.c.ids['patient_id']}/images/pairs", body)["pair_id"]

    def document(self, complete: bool = True) -> str:
        """A new document of the patient, its file uploaded; with ``complete``, reported so."""
        path = f"/patients/{self.c.ids['patient_id']}/documents"
        out = self.post(path, DOCUMENT)
        upload(out["upload"], PDF)
        did = str(out["document"]["document_id"])
        if complete:
            self.post(f"{path}/{did}/complete")
        return did

    def holiday(self) -> str:
        self.n += 1
        day = str(date.today() + timedelta(days=200 + self.n))
        self.post("/agenda/holidays", {**self.body_of("POST", "/agenda/holidays"), "date": day})
        return day

    def device(self) -> str:
        body = {"name": "Sensor", "defaults": {"kind": "xray"}}
        return self.post("/bridge/devices", body)["device"]["device_id"]

    # -- staff, invitations, password resets: their tokens only travel by mail

    def mailed_token(self, address: str) -> str:
        """The token of the newest mail to ``address``, read from moto's SES as the local
        stack's outbox reads it."""
        from infra.local.outbox import Outbox

        for m in Outbox(os.environ["AWS_REGION"]).mails():  # newest first
            if address in " ".join(m.to):
                found = re.search(r"token=([A-Za-z0-9_\-]+)", m.text or m.html or "")
                if found:
                    return found.group(1)
        raise RuntimeError(f"no mail with a token to {address}")

    def invite(self) -> tuple[str, str, str]:
        """(invitation_id, token, email) of a new invitation to join as an assistant."""
        email = f"staff{random.randrange(10**9)}@bench.example"
        body = {"email": email, "role": "assistant", "name": "Staff Member"}
        inv = self.post("/staff/invitations", body)
        return inv["invitation_id"], self.mailed_token(email), email

    def member(self) -> tuple[str, str]:
        """(user_id, email) of a new staff member (invited, invitation accepted)."""
        _, token, email = self.invite()
        body = {"token": token, "name": "Staff Member", "password": PASSWORD}
        r = self.api.call("POST", "/invitations/accept", body)
        return _ok(r, "accept invitation")["user"]["user_id"], email

    def reset_token(self) -> str:
        """A password-reset token of a new member (never the admin's: the bench signs in)."""
        email = self.member()[1]
        _ok(self.api.call("POST", "/auth/password-reset", {"email": email}), "password reset")
        return self.mailed_token(email)

    # -- WhatsApp

    def whatsapp(self) -> dict[str, str]:
        """Connect the clinic's WhatsApp (again, after the disconnect route) and return the
        body that connects it: the same number each time, so a PUT only stores it again."""
        c = self.c
        if not c.wa_number_id:
            c.wa_number_id = str(100000000 + int(c.clinic_id[-6:], 36) % 10**8)
        body = {
            "phone_number_id": c.wa_number_id,
            "waba_id": "200000001",
            "access_token": WA_ACCESS,
            "app_secret": WA_SECRET,
            "verify_token": WA_VERIFY,
        }
        if not c.wa_connected:
            _ok(self.api.call("PUT", "/comms/whatsapp", body, self.token), "connect WhatsApp")
            c.wa_connected = True
        return body

    def webhook(self, value: dict[str, Any]) -> Case:
        """A notification as Meta posts it: signed with the clinic's app secret
        (``X-Hub-Signature-256``), over exactly the bytes the client sends."""
        self.whatsapp()
        doc = {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "200000001",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {"phone_number_id": self.c.wa_number_id},
                                **value,
                            },
                        }
                    ],
                }
            ],
        }
        raw = json.dumps(doc).encode()  # what Client.call sends
        sig = "sha256=" + hmac.new(WA_SECRET.encode(), raw, hashlib.sha256).hexdigest()
        return Case(
            f"/public/whatsapp/{self.c.clinic_id}/webhook",
            doc,
            None,
            {"X-Hub-Signature-256": sig},
        )

    def inbound(self, number: str) -> Case:
        """The webhook of a patient's text message from ``number`` (digits, no +)."""
        self.n += 1
        msg = {
            "from": number,
            "id": f"wamid.BENCH{self.c.clinic_id[-8:]}{self.n}",
            "timestamp": str(int(time.time())),
            "type": "text",
            "text": {"body": "¿Puedo cambiar la cita?"},
        }
        return self.webhook({"messages": [msg]})

    def wa_patient(self, wrote: bool = False) -> tuple[str, str]:
        """(patient_id, number) of a new patient reachable on WhatsApp (number and consent);
        with ``wrote``, the patient has just written (the 24-hour window is open)."""
        self.whatsapp()
        self.n += 1
        number = f"3469{self.n:03d}{int(self.c.clinic_id[-4:], 36) % 10**4:04d}"
        body = {**patient_body(800000 + self.n, random.Random(self.n)), "whatsapp": "+" + number}
        pid = self.post("/patients", body)["patient_id"]
        consent = {"granted": True, "source": "paper_form"}
        path = f"/comms/patients/{pid}/consents/whatsapp"
        _ok(self.api.call("PUT", path, consent, self.token), "WhatsApp consent")
        if wrote:
            hook = self.inbound(number)
            _ok(self.api.call("POST", hook.path, hook.body, None, hook.headers), "inbound")
        return pid, number

    # -- the patient's appointment links

    def link(self, action: str) -> str:
        """A signed link token for a new appointment, made by the product's own signer (the
        one reminders and confirmations put in their messages)."""
        from chalicelib.comms import service as comms
        from chalicelib.core import scoping
        from chalicelib.patients import service as patients

        pid = self.patient()
        aid = self.appointment(pid)
        with scoping.clinic(self.c.clinic_id):
            p = patients.load(self.c.clinic_id, pid)
            return comms.create_link(self.c.clinic_id, p, aid, action)

    # -- Bridge captures

    def bump(self) -> int:
        self.n += 1
        return self.n

    def next_png(self) -> bytes:
        self.n += 1
        return png(self.c.clinic_id, self.n)

    def capture(self, ready: bool = False) -> str:
        """A new capture requested with the clinic's device key (it lands in the inbox); with
        ``ready``, its file uploaded with the capture's form and processed by the image
        worker, as the S3 event would have it processed."""
        data = self.next_png()
        r = self.api.call("POST", "/bridge/device/captures", capture_body(data), self.c.device_key)
        out = _ok(r, "capture")
        if ready:
            upload(out["upload"], data)
            from chalicelib.core.config import settings
            from chalicelib.imaging import worker

            key = out["upload"]["fields"]["key"]
            up = worker.Upload(
                settings().media_bucket, key, self.c.clinic_id, out["image_id"], len(data), None
            )
            if worker.process(up, f"bench-{out['image_id']}") != "ready":
                raise RuntimeError(f"capture {out['image_id']} not processed")
        return str(out["image_id"])

    def photo(self, patient_id: str) -> str:
        """A ready photo of the patient: requested, its file stored with the slot's form and
        rendered by the image worker (as the S3 event would have it)."""
        from chalicelib.core.config import settings
        from chalicelib.imaging import worker

        data = self.next_png()
        body = {**PHOTO, "filename": "frontal.png", "content_type": "image/png", "size": len(data)}
        out = self.post(f"/patients/{patient_id}/images", body)
        upload(out["upload"], data)
        iid = str(out["image"]["image_id"])
        key = out["upload"]["fields"]["key"]
        up = worker.Upload(settings().media_bucket, key, self.c.clinic_id, iid, len(data), None)
        if worker.process(up, f"bench-{iid}") != "ready":
            raise RuntimeError(f"photo {iid} not processed")
        return iid

    # -- clinical record, orthodontics, inventory, lab cases

    def finding(self) -> str:
        body = {"code": "caries", "tooth": 36, "surfaces": ["O"]}
        return str(
            self.post(f"/patients/{self.c.ids['patient_id']}/chart/findings", body)["finding_id"]
        )

    def plan_item(self) -> str:
        body = {"treatment_id": self.c.ids["treatment_id"]}
        return str(self.post(f"/patients/{self.c.ids['patient_id']}/chart/plan", body)["item_id"])

    def exam(self, complete: bool = False) -> tuple[str, int]:
        """(exam_id, version) of a new draft perio exam (a patient has one draft at a time, so
        each on a new patient); with ``complete``, locked."""
        body = {"exam_date": _today(), "teeth": {"16": {"sites": {"MB": {"pd": 4, "bop": True}}}}}
        e = self.post(f"/patients/{self.patient()}/perio-exams", body)
        if complete:
            e = self.post(f"/perio/exams/{e['exam_id']}/complete", {"version": e["version"]})
        return str(e["exam_id"]), int(e["version"])

    def note(self, sign: bool = False) -> str:
        path = f"/patients/{self.c.ids['patient_id']}/notes"
        nid = str(self.post(path, {"kind": "free", "text": "Revisión sin hallazgos."})["note_id"])
        if sign:
            self.post(f"{path}/{nid}/sign")
        return nid

    def template(self) -> str:
        self.n += 1
        body = {
            "kind": "free",
            "text": "Anestesia, aislamiento, obturación.",
            "name": f"Empaste {self.n}",
            "treatment_type": "Obturación",
        }
        return str(self.post("/notes/templates", body)["template_id"])

    def ortho_case(self) -> tuple[str, str]:
        """(patient_id, case_id) of an active aligner case (one per patient: a new patient)."""
        p = self.patient()
        c = self.post(f"/patients/{p}/ortho/cases", ORTHO_CASE)
        return p, str(c["case_id"])

    def stock_item(self) -> str:
        """An inventory item with stock (received once)."""
        self.n += 1
        body = {
            "name": f"Guantes {self.n}",
            "sku": f"GNT-{self.n}",
            "unit": "caja",
            "reorder_threshold": 2,
            "reorder_quantity": 10,
        }
        iid = str(self.post("/inventory/items", body)["item_id"])
        self.post(f"/inventory/items/{iid}/receive", {"quantity": 20, "lot": "L1"})
        return iid

    def lab(self) -> str:
        self.n += 1
        body = {"name": f"Laboratorio {self.n}", "email": f"lab{self.n}@bench.example"}
        return str(self.post("/labs", body)["lab_id"])

    def lab_case(self) -> str:
        body = {
            "lab_id": self.c.ids.get("lab_id") or self.lab(),
            "patient_id": self.c.ids["patient_id"],
            "teeth": [36],
            "work_type": "crown",
            "due_date": str(date.today() + timedelta(days=20)),
        }
        return str(self.post("/labs/cases", body)["case_id"])

    def lab_link(self) -> tuple[str, str]:
        """(case_id, token) of a case sent to its lab: the token of the lab's link."""
        cid = self.lab_case()
        link = self.post(f"/labs/cases/{cid}/send", {"valid_days": 30, "email": False})["link"]
        return cid, link.rstrip("/").rsplit("/", 1)[-1]

    def body_of(self, method: str, path: str) -> Any:
        op = self.doc["paths"][PREFIX + path][method.lower()]
        content = op.get("requestBody", {}).get("content", {}).get("application/json")
        return example(self.doc, content["schema"]) if content else None


ORTHO_CASE = {
    "appliance": "aligners",
    "total_trays": 20,
    "days_per_tray": 14,
    "current_tray": 1,
    "start_date": str(date.today() - timedelta(days=30)),
    "planned_months": 12,
    "visit_interval_weeks": 6,
    "phases": [{"kind": "levelling"}],
}
LAB_FILE = {"filename": "corona.pdf", "content_type": "application/pdf", "size": 60}


def png(clinic_id: str, n: int) -> bytes:
    """A small greyscale PNG, different for each clinic and ``n`` (the Bridge sends each file
    once: the same bytes again would be answered as a capture already received)."""
    from PIL import Image

    im = Image.new("L", (64, 48), color=n % 256)
    im.putpixel((0, 0), int(clinic_id[-2:], 36) % 256)
    im.putpixel((1, 0), n // 256 % 256)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n%%EOF\n"
DOCUMENT = {
    "type": "referral",
    "title": "Derivación a cirugía",
    "filename": "derivacion.pdf",
    "content_type": "application/pdf",
    "size": len(PDF),
}


# A drawn signature as the public budget page posts it (a PNG data URL).
def signature() -> str:
    """A drawn signature (the patient's link refuses a blank canvas), as the page posts it."""
    from PIL import Image, ImageDraw

    im = Image.new("RGBA", (300, 80), (255, 255, 255, 0))
    ImageDraw.Draw(im).line([(20, 60), (80, 20), (150, 55), (220, 25)], "black", 3)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


PHOTO = {"kind": "photo", "filename": "frontal.jpg", "content_type": "image/jpeg", "size": 1000}
XRAY = {"kind": "xray", "filename": "pano.png", "content_type": "image/png", "size": 1000}


def certificate() -> dict[str, str]:
    """The body of POST /verifactu/certificate: a PKCS#12 shaped like the FNMT's certificate of
    a company's representative (organizationIdentifier VATES-<the clinic's NIF>)."""
    import base64

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "12345678Z R: BENCH DENTAL SL - B12345674"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "BENCH DENTAL SL"),
            x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, "VATES-B12345674"),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, "IDCES-12345678Z"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "ES"),
        ]
    )
    start = datetime.now(UTC) - timedelta(days=1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=365))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    password = "bench-p12-password"
    p12 = pkcs12.serialize_key_and_certificates(
        b"bench", key, cert, None, serialization.BestAvailableEncryption(password.encode())
    )
    return {"pkcs12_base64": base64.b64encode(p12).decode(), "password": password}


def capture_body(data: bytes) -> dict[str, Any]:
    return {
        "filename": "captura.png",
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "content_type": "image/png",
    }


def upload(form: dict[str, Any], data: bytes) -> None:
    """Store the file the way the presigned POST would: its key, type and metadata fields."""
    import boto3

    from chalicelib.core.config import settings

    f = form["fields"]
    meta = {k.removeprefix("x-amz-meta-"): v for k, v in f.items() if k.startswith("x-amz-meta-")}
    boto3.client("s3", region_name=os.environ["AWS_REGION"]).put_object(
        Bucket=settings().media_bucket,
        Key=f["key"],
        Body=data,
        ContentType=f["Content-Type"],
        Metadata=meta,
    )


def _last_month() -> str:
    return f"from={datetime.now(UTC).date() - timedelta(days=30)}&to={_today()}"


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")


def _free_week(type_id: str) -> str:
    """The booking page's query for a type's week after the seeded history (whose last week
    books the professional's whole day)."""
    return f"type={type_id}&week={datetime.now(UTC).date() + timedelta(days=14)}"


def _workday() -> date:
    """Today, or the next Monday on a weekend (seeding books working days only)."""
    day = datetime.now(UTC).date()
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _today() -> str:
    return str(datetime.now(UTC).date())


def specs() -> dict[str, Callable[[Ctx], Case]]:
    """Routes that need a prepared object or a body with meaning; the others are called with
    the clinic's ids in their path and a body generated from the document."""
    pid = lambda x: x.c.ids["patient_id"]  # noqa: E731
    s: dict[str, Callable[[Ctx], Case]] = {
        "POST /auth/login": lambda x: Case(
            "/auth/login", {"email": x.c.email, "password": PASSWORD}, None
        ),
        "POST /auth/logout": lambda x: Case("/auth/logout", {}, "fresh"),
        "POST /auth/switch-clinic": lambda x: Case(
            "/auth/switch-clinic", {"clinic_id": x.c.clinic_id}
        ),
        "GET /patients": lambda x: Case("/patients?q=zubizarreta"),
        "POST /patients": lambda x: Case(
            "/patients", patient_body(700000 + x.n, random.Random(x.n))
        ),
        "PATCH /patients/{patient_id}": lambda x: Case(
            f"/patients/{x.patient()}", {"profession": "Bench"}
        ),
        "POST /patients/{patient_id}/archive": lambda x: Case(
            f"/patients/{x.patient()}/archive", {}
        ),
        "POST /patients/{patient_id}/unarchive": lambda x: (
            lambda p: (x.post(f"/patients/{p}/archive", {}), Case(f"/patients/{p}/unarchive", {}))[
                1
            ]
        )(x.patient()),
        # A working day, which both clinics have booked: the view names its patients in one
        # BatchGetItem, which a day without appointments skips.
        "GET /agenda/day": lambda x: Case(f"/agenda/day?date={_workday()}"),
        "GET /agenda/week": lambda x: Case(f"/agenda/week?start={_workday()}"),
        "POST /patients/{patient_id}/erasure": lambda x: (
            lambda pn: Case(
                f"/patients/{pn[0]}/erasure",
                {"reason_code": "patient_request", "confirm_name": pn[1]},
            )
        )(x.named_patient()),
        # The week of free slots of a type: the slot search (hours, holidays, one GSI4 Query).
        "GET /public/booking/{clinic_id}": lambda x: Case(
            f"/public/booking/{x.c.clinic_id}?{_free_week(x.online_booking())}", auth=None
        ),
        "POST /public/booking/{clinic_id}": lambda x: Case(
            f"/public/booking/{x.c.clinic_id}",
            x.booking_form(),
            auth=None,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ),
        "POST /recalls/rules": lambda x: Case(
            "/recalls/rules", {"name_es": "Limpieza", "codes": ["LIMP"], "interval_months": 6}
        ),
        "PATCH /recalls/rules/{rule_id}": lambda x: Case(
            f"/recalls/rules/{x.recall_rule()}", {"interval_months": 9}
        ),
        "GET /followups/{kind}": lambda x: Case("/followups/budget"),
        "PUT /patients/{patient_id}/recalls/{rule_id}": lambda x: Case(
            f"/patients/{x.patient()}/recalls/{x.recall_rule()}",
            {"due": str(datetime.now(UTC).date() + timedelta(days=60))},
        ),
        "POST /patients/{patient_id}/recalls/{rule_id}/snooze": lambda x: (
            lambda pr: Case(
                f"/patients/{pr[0]}/recalls/{pr[1]}/snooze",
                {"until": str(datetime.now(UTC).date() + timedelta(days=90))},
            )
        )(x.recall()),
        "POST /patients/{patient_id}/recalls/{rule_id}/dismiss": lambda x: (
            lambda pr: Case(f"/patients/{pr[0]}/recalls/{pr[1]}/dismiss", {"note": "Bench"})
        )(x.recall()),
        "POST /patients/{patient_id}/recalls/{rule_id}/send": lambda x: (
            lambda pr: Case(f"/patients/{pr[0]}/recalls/{pr[1]}/send", {})
        )(x.recall()),
        "POST /patients/{patient_id}/followups/{followup_id}": lambda x: (
            lambda pf: Case(f"/patients/{pf[0]}/followups/{pf[1]}", {"outcome": "contacted"})
        )(x.budget_followup()),
        "POST /patients/{patient_id}/followups/{followup_id}/send": lambda x: (
            lambda pf: Case(f"/patients/{pf[0]}/followups/{pf[1]}/send", {})
        )(x.budget_followup()),
        # The figures are kept by the reports consumer, which the benchmark's seeding does not
        # run: both clinics answer from the same (empty) day and month aggregates, which is
        # what the calls are about (a range reads its aggregates, never the records).
        "GET /reports/summary": lambda x: Case(f"/reports/summary?{_last_month()}"),
        "GET /reports/items": lambda x: Case(f"/reports/items?figure=invoiced&{_last_month()}"),
        "GET /reports/summary/export": lambda x: Case(f"/reports/summary/export?{_last_month()}"),
        "GET /reports/items/export": lambda x: Case(
            f"/reports/items/export?figure=invoiced&{_last_month()}"
        ),
        "GET /patients/{patient_id}/exports/{export_id}": lambda x: (
            lambda p: Case(
                f"/patients/{p}/exports/{x.post(f'/patients/{p}/exports', {})['export_id']}"
            )
        )(x.patient()),
        "POST /appointments": lambda x: Case(
            "/appointments",
            {
                "patient_id": x.patient(),
                "professional_id": x.c.admin_id,
                "cabinet_id": x.c.ids["cabinet2_id"],
                "start": f"{datetime.now(UTC).date() + timedelta(days=400 + x.n)}T11:00",
                "duration_min": 30,
                "reason": "Revisión",
                "override": True,
            },
        ),
        "GET /appointments/{appointment_id}": lambda x: Case(
            f"/appointments/{x.c.ids['appointment_id']}"
        ),
        "PATCH /appointments/{appointment_id}": lambda x: Case(
            f"/appointments/{x.appointment()}", {"reason": "Cambio"}
        ),
        "POST /appointments/{appointment_id}/status": lambda x: Case(
            f"/appointments/{x.appointment()}/status", {"status": "confirmed"}
        ),
        "POST /billing/invoices": lambda x: Case(
            "/billing/invoices",
            {"patient_id": pid(x), "lines": [{"treatment_id": x.c.ids["treatment_id"]}]},
        ),
        "PATCH /billing/invoices/{invoice_id}": lambda x: Case(
            f"/billing/invoices/{x.invoice()}", {"notes": "n"}
        ),
        "DELETE /billing/invoices/{invoice_id}": lambda x: Case(f"/billing/invoices/{x.invoice()}"),
        "POST /billing/invoices/{invoice_id}/issue": lambda x: Case(
            f"/billing/invoices/{x.invoice()}/issue"
        ),
        "POST /billing/invoices/{invoice_id}/rectify": lambda x: Case(
            f"/billing/invoices/{x.invoice(issue=True)}/rectify",
            {"reason": "Error", "code": "R1", "mode": "I"},
        ),
        "POST /billing/invoices/{invoice_id}/payments": lambda x: Case(
            f"/billing/invoices/{x.invoice(issue=True)}/payments",
            x.body_of("POST", "/billing/invoices/{invoice_id}/payments"),
        ),
        "POST /billing/budgets": lambda x: Case(
            "/billing/budgets",
            {"patient_id": pid(x), "lines": [{"treatment_id": x.c.ids["treatment_id"]}]},
        ),
        "PATCH /billing/budgets/{budget_id}": lambda x: Case(
            f"/billing/budgets/{x.budget()}", {"notes": "n"}
        ),
        "POST /billing/budgets/{budget_id}/send": lambda x: Case(
            f"/billing/budgets/{x.budget()}/send", {"valid_days": 15}
        ),
        "POST /billing/budgets/{budget_id}/cancel": lambda x: Case(
            f"/billing/budgets/{x.budget()}/cancel", {}
        ),
        "POST /billing/budgets/{budget_id}/reject": lambda x: Case(
            f"/billing/budgets/{x.sent_budget()}/reject",
            {"reason": "No"},
        ),
        "POST /billing/budgets/{budget_id}/accept": lambda x: Case(
            f"/billing/budgets/{x.sent_budget()}/accept",
            {"signer_name": "Ana", "relationship": "self"},
        ),
        "POST /verifactu/invoices/{invoice_id}/annul": lambda x: Case(
            f"/verifactu/invoices/{x.invoice(issue=True)}/annul", {"reason": "Error"}
        ),
        "DELETE /patients/{patient_id}/images/{image_id}": lambda x: Case(
            f"/patients/{pid(x)}/images/{x.image()}"
        ),
        "POST /bridge/devices/{device_id}/revoke": lambda x: Case(
            f"/bridge/devices/{x.device()}/revoke",
            {},
        ),
        "POST /bridge/devices/{device_id}/rotate": lambda x: Case(
            f"/bridge/devices/{x.device()}/rotate",
            {"grace_hours": 1},
        ),
        "PUT /comms/patients/{patient_id}/consents/{channel}": lambda x: Case(
            f"/comms/patients/{pid(x)}/consents/email", {"granted": True, "source": "paper_form"}
        ),
        "POST /comms/patients/{patient_id}/whatsapp/reply": lambda x: Case(
            f"/comms/patients/{x.wa_patient(wrote=True)[0]}/whatsapp/reply", {"text": "Claro"}
        ),
        "POST /comms/patients/{patient_id}/whatsapp/template": lambda x: (
            lambda p: Case(
                f"/comms/patients/{p}/whatsapp/template",
                {"kind": "reminder", "appointment_id": x.appointment(p)},
            )
        )(x.wa_patient()[0]),
        "POST /comms/patients/{patient_id}/whatsapp/read": lambda x: Case(
            f"/comms/patients/{x.wa_patient(wrote=True)[0]}/whatsapp/read"
        ),
        "PUT /comms/whatsapp": lambda x: Case("/comms/whatsapp", x.whatsapp()),
        "DELETE /comms/whatsapp": disconnect,
        "POST /comms/whatsapp/test": lambda x: (x.whatsapp(), Case("/comms/whatsapp/test"))[1],
        "GET /public/whatsapp/{clinic_id}/webhook": lambda x: (
            x.whatsapp(),
            Case(
                f"/public/whatsapp/{x.c.clinic_id}/webhook?hub.mode=subscribe"
                f"&hub.verify_token={WA_VERIFY}&hub.challenge=1158201444"
            ),
        )[1],
        "POST /public/whatsapp/{clinic_id}/webhook": lambda x: x.inbound(x.wa_patient()[1]),
        "GET /public/appointments/{token}": lambda x: Case(
            f"/public/appointments/{x.link('confirm')}"
        ),
        "POST /public/appointments/{token}": lambda x: Case(
            f"/public/appointments/{x.link('confirm')}"
        ),
        "POST /bridge/device/captures": lambda x: Case(
            "/bridge/device/captures", capture_body(x.next_png())
        ),
        "POST /bridge/device/captures/{image_id}/uploaded": lambda x: Case(
            f"/bridge/device/captures/{x.capture()}/uploaded", {"ok": True}
        ),
        "GET /bridge/device/captures/{image_id}": lambda x: Case(
            f"/bridge/device/captures/{x.capture()}"
        ),
        "POST /bridge/inbox/{image_id}/assign": lambda x: Case(
            f"/bridge/inbox/{x.capture(ready=True)}/assign", {"patient_id": pid(x)}
        ),
        "DELETE /bridge/inbox/{image_id}": lambda x: Case(f"/bridge/inbox/{x.capture(ready=True)}"),
        "POST /clinics/signup": lambda x: Case(
            "/clinics/signup",
            {
                "clinic": {"name": "Clínica nueva", "country": "ES", "time_zone": "Europe/Madrid"},
                "admin": {
                    "name": "Ana Admin",
                    "email": f"new{random.randrange(10**9)}@bench.example",
                    "password": PASSWORD,
                },
            },
        ),
        "POST /auth/refresh": lambda x: Case(
            "/auth/refresh",
            {
                "refresh_token": x.post("/auth/login", {"email": x.c.email, "password": PASSWORD})[
                    "refresh_token"
                ]
            },
        ),
        "PATCH /staff/{user_id}": lambda x: Case(f"/staff/{x.member()[0]}", {"role": "dentist"}),
        "POST /staff/{user_id}/deactivate": lambda x: Case(
            f"/staff/{x.member()[0]}/deactivate", {}
        ),
        "POST /staff/{user_id}/reactivate": lambda x: (
            lambda u: (x.post(f"/staff/{u}/deactivate", {}), Case(f"/staff/{u}/reactivate", {}))[1]
        )(x.member()[0]),
        "DELETE /staff/invitations/{invitation_id}": lambda x: Case(
            f"/staff/invitations/{x.invite()[0]}"
        ),
        "GET /invitations/{token}": lambda x: Case(f"/invitations/{x.invite()[1]}"),
        "POST /invitations/accept": lambda x: Case(
            "/invitations/accept",
            {"token": x.invite()[1], "name": "Staff Member", "password": PASSWORD},
        ),
        "GET /auth/password-reset/{token}": lambda x: Case(
            f"/auth/password-reset/{x.reset_token()}"
        ),
        "POST /auth/password-reset/confirm": lambda x: Case(
            "/auth/password-reset/confirm",
            {"token": x.reset_token(), "password": "another-correct-horse-42"},
        ),
        "POST /patients/{patient_id}/images": lambda x: Case(f"/patients/{pid(x)}/images", PHOTO),
        "POST /patients/{patient_id}/xrays": lambda x: Case(f"/patients/{pid(x)}/xrays", XRAY),
        "POST /patients/{patient_id}/images/pairs": lambda x: Case(
            f"/patients/{pid(x)}/images/pairs", {"before_id": x.image(), "after_id": x.image()}
        ),
        "DELETE /patients/{patient_id}/images/pairs/{pair_id}": lambda x: Case(
            f"/patients/{pid(x)}/images/pairs/{x.pair()}"
        ),
        "GET /patients/{patient_id}/xrays/compare": lambda x: Case(
            f"/patients/{pid(x)}/xrays/compare?tooth=11"
        ),
        "POST /patients/{patient_id}/documents": lambda x: Case(
            f"/patients/{pid(x)}/documents", DOCUMENT
        ),
        "POST /patients/{patient_id}/documents/{document_id}/complete": lambda x: Case(
            f"/patients/{pid(x)}/documents/{x.document(complete=False)}/complete"
        ),
        "PATCH /patients/{patient_id}/documents/{document_id}": lambda x: Case(
            f"/patients/{pid(x)}/documents/{x.c.ids['document_id']}", {"title": "Cambiado"}
        ),
        "DELETE /patients/{patient_id}/documents/{document_id}": lambda x: Case(
            f"/patients/{pid(x)}/documents/{x.document()}"
        ),
        "DELETE /agenda/holidays/{date}": lambda x: Case(f"/agenda/holidays/{x.holiday()}"),
        "POST /billing/vat-types": lambda x: Case(
            "/billing/vat-types",
            {
                **x.body_of("POST", "/billing/vat-types"),
                "code": "IVA10B",
                "rate": "10",
                "classification": "S1",
            },
        ),
        "POST /billing/treatments": lambda x: Case(
            "/billing/treatments",
            {"code": f"BN{x.bump()}", "name_es": "Empaste", "price": "60"},
        ),
        "POST /billing/budgets/{budget_id}/revise": lambda x: Case(
            f"/billing/budgets/{x.sent_budget()}/revise", {}
        ),
        "GET /billing/budgets/{budget_id}/pdf": lambda x: Case(
            f"/billing/budgets/{x.c.ids['budget_id']}/pdf", headers={"Accept": "application/pdf"}
        ),
        "GET /billing/budgets/{budget_id}/accepted-pdf": lambda x: Case(
            f"/billing/budgets/{x.accepted_budget()}/accepted-pdf",
            headers={"Accept": "application/pdf"},
        ),
        "POST /billing/invoices/{invoice_id}/email": lambda x: Case(
            f"/billing/invoices/{x.invoice(issue=True)}/email", {"to": "paciente@example.com"}
        ),
        "GET /billing/invoices/{invoice_id}/pdf": lambda x: Case(
            f"/billing/invoices/{x.c.ids['invoice_id']}/pdf",
            headers={"Accept": "application/pdf"},
        ),
        "POST /billing/invoices/{invoice_id}/refunds": lambda x: Case(
            f"/billing/invoices/{x.paid_invoice()}/refunds", {"amount": "5", "method": "cash"}
        ),
        "GET /billing/payments/{payment_id}/receipt/pdf": lambda x: Case(
            f"/billing/payments/{x.payment()}/receipt/pdf",
            headers={"Accept": "application/pdf"},
        ),
        "POST /billing/payments/{payment_id}/receipt/email": lambda x: Case(
            f"/billing/payments/{x.payment()}/receipt/email"
        ),
        "GET /billing/takings/export": lambda x: Case(
            "/billing/takings/export", headers={"Accept": "text/csv"}
        ),
        "GET /public/budgets/{token}": lambda x: Case(f"/public/budgets/{x.budget_link()[1]}"),
        "POST /public/budgets/{token}": lambda x: Case(
            f"/public/budgets/{x.budget_link()[1]}",
            {"signer_name": "Ana", "relationship": "self", "signature": signature()},
        ),
        "GET /public/budgets/{token}/pdf": lambda x: Case(
            f"/public/budgets/{x.budget_link()[1]}/pdf", headers={"Accept": "application/pdf"}
        ),
        "POST /verifactu/certificate": lambda x: Case("/verifactu/certificate", certificate()),
        "GET /audit": lambda x: Case("/audit?entity_type=clinic&limit=5"),
        "GET /audit/export": lambda x: Case("/audit/export?entity_type=clinic"),
        "GET /billing/patients/{patient_id}/balance": lambda x: Case(
            f"/billing/patients/{pid(x)}/balance"
        ),
        "GET /patients/{patient_id}/appointments": lambda x: Case(
            f"/patients/{pid(x)}/appointments?limit=20"
        ),
        "GET /verifactu/book/issued": lambda x: Case(f"/verifactu/book/issued?{_last_month()}"),
        "GET /verifactu/book/records": lambda x: Case(f"/verifactu/book/records?{_last_month()}"),
    }
    s.update(clinical_specs())
    return s


def clinical_specs() -> dict[str, Callable[[Ctx], Case]]:
    """The clinical record (chart, perio, notes), orthodontics, inventory and lab cases: each
    route on an object made for it (their ids are not the clinic's, and some names, case_id
    and item_id, mean two things)."""
    pid = lambda x: x.c.ids["patient_id"]  # noqa: E731
    chart = lambda x: f"/patients/{pid(x)}/chart"  # noqa: E731
    notes = lambda x: f"/patients/{pid(x)}/notes"  # noqa: E731
    exam = lambda e: f"/perio/exams/{e[0]}"  # noqa: E731

    def ortho(x: Ctx, tail: str = "", body: Any = None) -> Case:
        p, c = x.ortho_case()
        return Case(f"/patients/{p}/ortho/cases/{c}{tail}", body)

    def ortho_photo(x: Ctx) -> Case:
        p, c = x.ortho_case()
        image = x.photo(p)
        x.post(f"/patients/{p}/ortho/cases/{c}/photos", {"image_ids": [image]})
        return Case(f"/patients/{p}/ortho/cases/{c}/photos/{image}")

    def ortho_reminder(x: Ctx) -> Case:
        # The tray change is due (day 30 of 14-day trays); the patient consented to email.
        p, c = x.ortho_case()
        consent = {"granted": True, "source": "paper_form"}
        _ok(x.api.call("PUT", f"/comms/patients/{p}/consents/email", consent, x.token), "consent")
        return Case(f"/patients/{p}/ortho/cases/{c}/reminders", {"kind": "tray"})

    def lab_file(x: Ctx, public: bool) -> Case:
        case_id, token = x.lab_link()
        base = f"/public/lab-cases/{token}" if public else f"/labs/cases/{case_id}"
        out = x.api.call("POST", f"{base}/files", {**LAB_FILE, "size": len(PDF)}, x.token)
        out = _ok(out, "lab file")
        upload(out["upload"], PDF)
        return Case(
            f"{base}/files/{out['file']['file_id']}/complete", auth=None if public else "bearer"
        )

    today = _today()
    return {
        "POST /patients/{patient_id}/chart/findings": lambda x: Case(
            f"{chart(x)}/findings", {"code": "caries", "tooth": 46, "surfaces": ["O", "D"]}
        ),
        "POST /patients/{patient_id}/chart/findings/{finding_id}/resolve": lambda x: Case(
            f"{chart(x)}/findings/{x.finding()}/resolve", {}
        ),
        "POST /patients/{patient_id}/chart/plan": lambda x: Case(
            f"{chart(x)}/plan", {"treatment_id": x.c.ids["treatment_id"]}
        ),
        "POST /patients/{patient_id}/chart/plan/budget": lambda x: Case(
            f"{chart(x)}/plan/budget", {"item_ids": [x.plan_item()]}
        ),
        "POST /patients/{patient_id}/chart/plan/{item_id}/complete": lambda x: Case(
            f"{chart(x)}/plan/{x.plan_item()}/complete", {}
        ),
        "POST /patients/{patient_id}/chart/plan/{item_id}/cancel": lambda x: Case(
            f"{chart(x)}/plan/{x.plan_item()}/cancel"
        ),
        "POST /patients/{patient_id}/perio-exams": lambda x: Case(
            f"/patients/{x.patient()}/perio-exams", {"exam_date": today}
        ),
        "GET /perio/exams/{exam_id}": lambda x: Case(exam(x.exam())),
        "PUT /perio/exams/{exam_id}": lambda x: (
            lambda e: Case(exam(e), {"version": e[1], "teeth": {"26": {"mobility": 1}}})
        )(x.exam()),
        "DELETE /perio/exams/{exam_id}": lambda x: Case(exam(x.exam())),
        "POST /perio/exams/{exam_id}/complete": lambda x: (
            lambda e: Case(f"{exam(e)}/complete", {"version": e[1]})
        )(x.exam()),
        "GET /perio/exams/{exam_id}/compare": lambda x: Case(
            f"{exam(x.exam(complete=True))}/compare"
        ),
        "POST /patients/{patient_id}/notes": lambda x: Case(
            notes(x), {"kind": "free", "text": "Dolor a la masticación en 36."}
        ),
        "GET /patients/{patient_id}/notes/{note_id}": lambda x: Case(f"{notes(x)}/{x.note()}"),
        "PUT /patients/{patient_id}/notes/{note_id}": lambda x: Case(
            f"{notes(x)}/{x.note()}", {"kind": "free", "text": "Revisión: sin cambios."}
        ),
        "DELETE /patients/{patient_id}/notes/{note_id}": lambda x: Case(f"{notes(x)}/{x.note()}"),
        "POST /patients/{patient_id}/notes/{note_id}/sign": lambda x: Case(
            f"{notes(x)}/{x.note()}/sign"
        ),
        "POST /patients/{patient_id}/notes/{note_id}/amendments": lambda x: Case(
            f"{notes(x)}/{x.note(sign=True)}/amendments",
            {"reason": "Diente equivocado", "text": "Era el 46, no el 36."},
        ),
        "GET /notes/search": lambda x: Case("/notes/search?q=masticaci%C3%B3n"),
        "GET /notes/templates/{template_id}": lambda x: Case(f"/notes/templates/{x.template()}"),
        "PUT /notes/templates/{template_id}": lambda x: Case(
            f"/notes/templates/{x.template()}",
            {
                "kind": "free",
                "text": "Anestesia y obturación.",
                "name": f"Empaste b{x.bump()}",
                "treatment_type": "Obturación",
            },
        ),
        "DELETE /notes/templates/{template_id}": lambda x: Case(f"/notes/templates/{x.template()}"),
        "POST /patients/{patient_id}/ortho/cases": lambda x: Case(
            f"/patients/{x.patient()}/ortho/cases", ORTHO_CASE
        ),
        "GET /patients/{patient_id}/ortho/cases/{case_id}": lambda x: ortho(x),
        "PUT /patients/{patient_id}/ortho/cases/{case_id}": lambda x: ortho(
            x, body={k: v for k, v in ORTHO_CASE.items() if k != "current_tray"}
        ),
        "POST /patients/{patient_id}/ortho/cases/{case_id}/finish": lambda x: ortho(
            x, "/finish", {"finished_on": today}
        ),
        "GET /patients/{patient_id}/ortho/cases/{case_id}/visits": lambda x: ortho(x, "/visits"),
        "POST /patients/{patient_id}/ortho/cases/{case_id}/visits": lambda x: ortho(
            x, "/visits", {"date": today, "note": "Cambio de ligaduras"}
        ),
        "POST /patients/{patient_id}/ortho/cases/{case_id}/tray-changes": lambda x: ortho(
            x, "/tray-changes", {"tray": 2, "date": today}
        ),
        "POST /patients/{patient_id}/ortho/cases/{case_id}/photos": lambda x: (
            lambda p, c: Case(f"/patients/{p}/ortho/cases/{c}/photos", {"image_ids": [x.photo(p)]})
        )(*x.ortho_case()),
        "DELETE /patients/{patient_id}/ortho/cases/{case_id}/photos/{image_id}": ortho_photo,
        "POST /patients/{patient_id}/ortho/cases/{case_id}/reminders": ortho_reminder,
        "POST /inventory/items": lambda x: Case(
            "/inventory/items",
            {"name": "Composite A2", "sku": f"CMP-{x.bump()}", "unit": "jeringa"},
        ),
        "GET /inventory/items/{item_id}": lambda x: Case(f"/inventory/items/{x.stock_item()}"),
        "PATCH /inventory/items/{item_id}": lambda x: Case(
            f"/inventory/items/{x.stock_item()}", {"reorder_threshold": 5}
        ),
        "GET /inventory/items/{item_id}/movements": lambda x: Case(
            f"/inventory/items/{x.stock_item()}/movements"
        ),
        "POST /inventory/items/{item_id}/receive": lambda x: Case(
            f"/inventory/items/{x.stock_item()}/receive",
            {"quantity": 5, "lot": "L2", "expiry": str(date.today() + timedelta(days=300))},
        ),
        "POST /inventory/items/{item_id}/consume": lambda x: Case(
            f"/inventory/items/{x.stock_item()}/consume", {"quantity": 1}
        ),
        "POST /inventory/items/{item_id}/adjust": lambda x: Case(
            f"/inventory/items/{x.stock_item()}/adjust", {"delta": -1, "reason": "Caja rota"}
        ),
        "PUT /labs/{lab_id}": lambda x: Case(
            f"/labs/{x.lab()}", {"name": "Laboratorio Norte", "email": "norte@bench.example"}
        ),
        "POST /labs/cases": lambda x: Case(
            "/labs/cases",
            {
                "lab_id": x.c.ids.get("lab_id") or x.lab(),
                "patient_id": pid(x),
                "teeth": [46],
                "work_type": "crown",
                "due_date": str(date.today() + timedelta(days=15)),
            },
        ),
        "GET /labs/cases/{case_id}": lambda x: Case(f"/labs/cases/{x.lab_case()}"),
        "PUT /labs/cases/{case_id}": lambda x: Case(
            f"/labs/cases/{x.lab_case()}",
            {
                "lab_id": x.c.ids.get("lab_id") or x.lab(),
                "teeth": [36],
                "work_type": "crown",
                "shade": "A2",
                "due_date": str(date.today() + timedelta(days=25)),
            },
        ),
        "POST /labs/cases/{case_id}/status": lambda x: Case(
            f"/labs/cases/{x.lab_link()[0]}/status", {"status": "in_progress"}
        ),
        "POST /labs/cases/{case_id}/send": lambda x: Case(
            f"/labs/cases/{x.lab_case()}/send", {"valid_days": 30}
        ),
        "DELETE /labs/cases/{case_id}/link": lambda x: Case(f"/labs/cases/{x.lab_link()[0]}/link"),
        "POST /labs/cases/{case_id}/files": lambda x: Case(
            f"/labs/cases/{x.lab_case()}/files", {**LAB_FILE, "size": len(PDF)}
        ),
        "POST /labs/cases/{case_id}/files/{file_id}/complete": lambda x: lab_file(x, False),
        "GET /public/lab-cases/{token}": lambda x: Case(
            f"/public/lab-cases/{x.lab_link()[1]}", auth=None
        ),
        "POST /public/lab-cases/{token}/status": lambda x: Case(
            f"/public/lab-cases/{x.lab_link()[1]}/status", {"status": "in_progress"}, auth=None
        ),
        "POST /public/lab-cases/{token}/delivery": lambda x: Case(
            f"/public/lab-cases/{x.lab_link()[1]}/delivery",
            {"expected_delivery": str(date.today() + timedelta(days=10))},
            auth=None,
        ),
        "POST /public/lab-cases/{token}/files": lambda x: Case(
            f"/public/lab-cases/{x.lab_link()[1]}/files", {**LAB_FILE, "size": len(PDF)}, auth=None
        ),
        "POST /public/lab-cases/{token}/files/{file_id}/complete": lambda x: lab_file(x, True),
    }


def disconnect(x: Ctx) -> Case:
    """DELETE /comms/whatsapp on a connected clinic; the next WhatsApp route connects again."""
    x.whatsapp()
    x.c.wa_connected = False
    return Case("/comms/whatsapp")


def concrete(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), "01JBENCH0000000000000000XX"), path)


@dataclass
class Row:
    route: str
    status: int
    tally: Tally
    cpu: float


def run_route(ctx: Ctx, meter: Meter, method: str, path: str, security: list[str]) -> Row:
    key = f"{method} {path}"
    spec = specs().get(key)
    try:
        if spec is not None:
            case = spec(ctx)
        else:
            body = ctx.body_of(method, path) if method in ("POST", "PUT", "PATCH") else None
            case = Case(concrete(path, ctx.c.ids), body)
    except RuntimeError as exc:  # the preparation failed: say so, count nothing
        print(f"  ! {key}: preparation failed: {str(exc)[:200]}")
        return Row(key, -1, Tally(), 0.0)
    headers = dict(case.headers)
    token = None
    if "deviceKey" in security:
        headers["Authorization"] = f"Bearer {ctx.c.device_key}"
    elif case.auth == "fresh":
        token = ctx.post("/auth/login", {"email": ctx.c.email, "password": PASSWORD})[
            "access_token"
        ]
    elif "bearer" in security:
        token = ctx.token
    with meter.count() as t:
        c0 = time.process_time()
        r = ctx.api.call(method, case.path, case.body, token, headers)
        cpu = time.process_time() - c0
    return Row(key, r.status, t, cpu)


def more_ids(ctx: Ctx) -> None:
    """Ids of things the GET routes name (an issued invoice, a budget, an appointment...)."""
    c = ctx.c
    makers = {
        "appointment_id": ctx.appointment,
        "invoice_id": lambda: ctx.invoice(issue=True),
        "budget_id": ctx.budget,
        "image_id": ctx.image,
        "document_id": ctx.document,
        "lab_id": ctx.lab,
    }
    for name, make in makers.items():
        try:
            c.ids[name] = make()
        except RuntimeError as exc:
            print(f"  ! no {name}: {str(exc)[:200]}")
    c.ids.update(role="assistant", code="IVA21", channel="email")
    c.ids["date"] = str(date.today() + timedelta(days=90))
    records = _ok(ctx.api.call("GET", "/verifactu/records?limit=1", None, ctx.token), "records")
    items = records.get("items", []) if isinstance(records, dict) else records
    if items:
        c.ids["record_id"] = items[0]["record_id"]


# --- cold start ----------------------------------------------------------------------------

BARE_APP = """
from chalice import Chalice
import boto3, pydantic

app = Chalice(app_name="bare")

class Item(pydantic.BaseModel):
    name: str
    price: int

@app.route("/items", methods=["POST"])
def create():
    return Item.model_validate(app.current_request.json_body).model_dump()
"""

CHILD = """
import sys, time, resource
t0 = time.process_time()
{body}
t1 = time.process_time()
print(t1 - t0)
"""


def cold_start(runs: int) -> dict[str, dict[str, float]]:
    """CPU seconds to import the API (``import app``) and the bare app, each in a fresh
    interpreter, median of ``runs``. Two ways: with bytecode caches (written by a first run
    into a temp prefix, not the checkout), and compiling every module from source, as a
    process does when no ``.pyc`` ships with the code and none can be written."""
    import tempfile

    code = {
        "api": CHILD.format(body="import app"),
        "bare": CHILD.format(body="exec(compile(" + repr(BARE_APP) + ", 'bare', 'exec'))"),
    }
    result: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as cached, tempfile.TemporaryDirectory() as empty:
        modes = {
            "bytecode cached": {"PYTHONPYCACHEPREFIX": cached},
            "from source": {"PYTHONPYCACHEPREFIX": empty, "PYTHONDONTWRITEBYTECODE": "1"},
        }
        for mode, extra in modes.items():
            env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
            env.update(extra)
            out: dict[str, list[float]] = {"api": [], "bare": []}
            for i in range(runs + 1):
                for name, src in code.items():
                    r = subprocess.run(
                        [sys.executable, "-c", src],
                        cwd=ROOT,
                        env=env,
                        capture_output=True,
                        text=True,
                        check=True,
                    )
                    if i:  # the first run of each only warms up (and writes the caches)
                        out[name].append(float(r.stdout.strip().splitlines()[-1]))
            med = {k: statistics.median(v) for k, v in out.items()}
            med["ratio"] = med["api"] / med["bare"]
            result[mode] = med
    return result


# --- main ----------------------------------------------------------------------------------


def _ratio(a: float, b: float) -> str:
    if a == 0 and b == 0:
        return "1.00"
    if a == 0:
        return "inf"
    return f"{b / a:.2f}"


UNIT_TOLERANCE = 1.25  # units also follow the size of the items read (names, lines...)


def _classify(key: str, s: Row, lg: Row) -> tuple[str, str]:
    """(category, note) of one route from its two rows."""
    calls = lg.tally.calls / s.tally.calls if s.tally.calls else 1.0
    su, lu = s.tally.rcu + s.tally.wcu, lg.tally.rcu + lg.tally.wcu
    units = lu / su if su else 1.0
    # 303 is how a public form post answers success (Post/Redirect/Get: the lab's page).
    ok = all(200 <= r.status < 300 or r.status == 303 for r in (s, lg))
    if key in READS_ALL:
        return "all", f"all ({READS_ALL[key]})" + ("" if ok else " (not 2xx)")
    grows = calls > 1.0 or units > UNIT_TOLERANCE
    if calls > 1.0:
        return "grows", "GROWS" + ("" if ok else " (not 2xx)")
    if grows:
        # Same calls, more units: a page or view holding bigger or more distinct items (e.g.
        # the small clinic's 10 patients stand behind all of a week's appointments).
        return "units", f"same calls, units x{units:.2f}" + ("" if ok else " (not 2xx)")
    if not ok and key in NO_2XX:
        return "no 2xx", f"no 2xx here: {NO_2XX[key]}"
    if not ok:
        return "not 2xx", "not 2xx: stops early"
    return "constant", ""


def print_table(small: dict[str, Row], large: dict[str, Row], labels: tuple[str, str]) -> None:
    print()
    print(f"DynamoDB per request: s = {labels[0]}, l = {labels[1]}; units computed from item sizes")
    head = (
        f"{'route':<58} {'status':>8} {'calls s/l':>10} {'ratio':>6} "
        f"{'RCU s/l':>15} {'WCU s/l':>9} {'ratio':>6}  note"
    )
    print(head)
    print("-" * len(head))
    summary = {"constant": 0, "grows": 0, "units": 0, "all": 0, "not 2xx": 0, "no 2xx": 0}
    growing = []
    for key, s in small.items():
        lg = large[key]
        cat, note = _classify(key, s, lg)
        summary[cat] += 1
        if cat in ("grows", "units"):
            growing.append((key, s, lg))
        cr = _ratio(s.tally.calls, lg.tally.calls)
        ur = _ratio(s.tally.rcu + s.tally.wcu, lg.tally.rcu + lg.tally.wcu)
        print(
            f"{key:<58} {s.status:>3}/{lg.status:<4} {s.tally.calls:>4}/{lg.tally.calls:<5} "
            f"{cr:>6} {s.tally.rcu:>7.1f}/{lg.tally.rcu:<7.1f} "
            f"{s.tally.wcu:>4.0f}/{lg.tally.wcu:<4.0f} "
            f"{ur:>6}  {note}"
        )
    print()
    print(
        f"{len(small)} operations: {summary['constant']} constant (same calls, units within "
        f"{UNIT_TOLERANCE}x), {summary['grows']} grow in calls, {summary['units']} same calls "
        f"but more units, {summary['all']} read everything by "
        f"design, {summary['not 2xx']} constant but not 2xx at both sizes, {summary['no 2xx']} "
        "that cannot answer 2xx in a benchmark (reason on their line)"
    )
    for key, s, lg in growing:
        print(
            f"  {key}:\n    {labels[0]}: {' '.join(s.tally.trace)}"
            f"\n    {labels[1]}: {' '.join(lg.tally.trace)}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--patients", type=int, default=10_000, help="large clinic's patients")
    ap.add_argument("--years", type=float, default=5, help="large clinic's history, years")
    ap.add_argument("--small-patients", type=int, default=10)
    ap.add_argument("--per-day", type=int, default=16, help="appointments per working day")
    ap.add_argument("--invoices-per-day", type=int, default=4, help="invoices per working day")
    ap.add_argument("--quick", action="store_true", help="500 patients, one year")
    ap.add_argument(
        "--routes", default="", help="only routes whose path contains one of these (comma)"
    )
    ap.add_argument("--cpu-repeat", type=int, default=5, help="requests per main route for CPU")
    ap.add_argument("--cold-runs", type=int, default=5, help="fresh interpreters per app")
    ap.add_argument("--no-cold", action="store_true", help="skip the cold-start measure")
    ap.add_argument("--cold-only", action="store_true", help="only the cold-start measure")
    args = ap.parse_args()
    if args.quick:
        args.patients, args.years = 500, 1
    resources = _environment()
    if not args.no_cold:
        for mode, cs in cold_start(args.cold_runs).items():
            print(
                f"cold start, {mode} (import CPU, median of {args.cold_runs}): "
                f"API {cs['api'] * 1000:.0f} ms, bare Chalice+boto3+pydantic "
                f"{cs['bare'] * 1000:.0f} ms, ratio {cs['ratio']:.2f} (limit 1.5)"
            )
    if args.cold_only:
        return

    from moto import mock_aws

    mock = mock_aws()
    mock.start()
    graph_standin()
    from chalicelib.core.keys import generate_secret_value
    from infra.local import moto_dynamodb
    from infra.local.provision import provision

    moto_dynamodb.apply()
    provision(resources, None, os.environ["AWS_REGION"], secret_value=generate_secret_value())  # type: ignore[arg-type]
    meter = Meter()
    meter.install()
    import app as app_module
    from chalicelib.core import openapi

    api = Client(app_module.app)
    doc = openapi.build(app_module.ROUTERS)
    rnd = random.Random(23)
    clinics = {}
    for label, n, days in (
        ("small", args.small_patients, 14),
        ("large", args.patients, int(365 * args.years)),
    ):
        t0 = time.time()
        c = setup_clinic(api, f"Clínica {label}")
        seed_patients(meter, c, n, max(1, int(args.years)), rnd)
        hist = seed_history(api, meter, c, days, args.per_day, args.invoices_per_day, rnd)
        ctx = Ctx(api, c, doc)
        more_ids(ctx)
        clinics[label] = ctx
        print(
            f"{label} clinic: {n} patients, {hist['appointments']} appointments, "
            f"{hist['invoices']} invoices over {days} days, seeded in {time.time() - t0:.0f} s"
        )

    wanted = [w for w in args.routes.split(",") if w]
    rows: dict[str, dict[str, Row]] = {"small": {}, "large": {}}
    for path, ops in doc["paths"].items():
        short = path.removeprefix(PREFIX)
        if wanted and not any(w in short for w in wanted):
            continue
        for method, op in ops.items():
            security = [name for req in op.get("security", []) for name in req]
            for label, ctx in clinics.items():
                row = run_route(ctx, meter, method.upper(), short, security)
                rows[label][row.route] = row
    print_table(
        rows["small"],
        rows["large"],
        (f"{args.small_patients} patients", f"{args.patients} patients"),
    )
    cpu_report(clinics["large"], meter, args.cpu_repeat)
    mock.stop()


def cpu_report(ctx: Ctx, meter: Meter, repeat: int) -> None:
    """Per-request CPU of the main routes on the large clinic: all of it, and the part outside
    botocore calls (moto runs in this process; that part is what the API spends itself)."""
    routes = {
        "login": ("POST", "/auth/login", ["x"], lambda: None),
        "agenda day": ("GET", "/agenda/day", ["bearer"], None),
        "agenda week": ("GET", "/agenda/week", ["bearer"], None),
        "invoice issue": ("POST", "/billing/invoices/{invoice_id}/issue", ["bearer"], None),
        "patient search": ("GET", "/patients", ["bearer"], None),
    }
    meter.sizing = False
    print()
    print(f"CPU per request on the large clinic (median of {repeat}):")
    print(f"{'route':<16} {'total ms':>9} {'API ms':>8} {'AWS ms':>8} {'calls':>6}")
    for name, (method, path, security, _) in routes.items():
        samples = []
        for _ in range(repeat):
            row = run_route(ctx, meter, method, path, security)
            samples.append(row)
        total = statistics.median(r.cpu for r in samples)
        aws = statistics.median(r.tally.aws_cpu for r in samples)
        app_ = statistics.median(r.cpu - r.tally.aws_cpu for r in samples)
        print(
            f"{name:<16} {total * 1000:>9.1f} {app_ * 1000:>8.1f} {aws * 1000:>8.1f} "
            f"{samples[0].tally.calls:>6}"
        )


if __name__ == "__main__":
    main()
