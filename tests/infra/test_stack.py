"""The synthesized CDK stack, resource by resource, against infra/resources.py.

One module on purpose: ``make test`` distributes by file (``--dist loadfile``), so every test
that needs a synthesized template shares one session's synthesis (dev and prod, ~1 min).
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match

from chalicelib.gdpr.worker import EXPORT_TAG
from infra.artifacts import ROOT
from infra.resources import GDPR_EXPORT_DAYS, GDPR_EXPORT_TAG, ORIGINAL_OBJECT_TAG, for_stage
from infra.settings import NOT_SET_ON_LAMBDA, PRODUCT_OVERRIDES
from infra.stack import NOT_FOUND_BODY
from tests.infra.conftest import PROD_CONTEXT, Synth

# -- helpers -----------------------------------------------------------------------------------


def one(s: Synth, type_: str, **match: Any) -> tuple[str, dict[str, Any]]:
    found = [
        (k, v)
        for k, v in s.resources(type_).items()
        if all(v["Properties"].get(key) == val for key, val in match.items())
    ]
    assert len(found) == 1, f"expected one {type_} with {match}, found {len(found)}"
    return found[0]


def statements(s: Synth) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for k, v in s.json["Resources"].items():
        p = v.get("Properties", {})
        docs = []
        if v["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            docs.append(p["PolicyDocument"])
        if v["Type"] == "AWS::IAM::Role":
            docs += [pol["PolicyDocument"] for pol in p.get("Policies", [])]
        for d in docs:
            out += [(k, st) for st in d["Statement"]]
    return out


def as_list(x: Any) -> list[Any]:
    return x if isinstance(x, list) else [x]


def policy_of_role(s: Synth, role_id: str) -> list[dict[str, Any]]:
    return [
        st
        for k, v in s.resources("AWS::IAM::Policy").items()
        if {"Ref": role_id} in v["Properties"]["Roles"]
        for st in v["Properties"]["PolicyDocument"]["Statement"]
    ]


def actions_of_role(s: Synth, role_id: str) -> set[str]:
    return {a for st in policy_of_role(s, role_id) for a in as_list(st["Action"])}


def data_key(s: Synth) -> str:
    (alias,) = s.resources("AWS::KMS::Alias").values()
    return alias["Properties"]["TargetKeyId"]["Fn::GetAtt"][0]


def spa_origin(s: Synth) -> Any:
    """https://<custom domain> in prod (PROD_CONTEXT), the CloudFront domain in dev."""
    domain = s.stack.settings.domain_name
    if domain:
        return f"https://{domain}"
    dist_id, _ = one(s, "AWS::CloudFront::Distribution")
    return {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [dist_id, "DomainName"]}]]}


def functions(s: Synth) -> dict[str, dict[str, Any]]:
    """Every Lambda that runs product code: the API handler and each worker and job."""
    return {
        k: v["Properties"]
        for k, v in {
            **s.resources("AWS::Lambda::Function"),
            **s.resources("AWS::Serverless::Function"),
        }.items()
        if k == "APIHandler" or v["Properties"].get("Handler", "").startswith("functions.")
    }


# -- DynamoDB ----------------------------------------------------------------------------------


def test_table_keys_and_indexes_equal_resources(any_stage: Synth) -> None:
    t = any_stage.res.table
    _, table = one(any_stage, "AWS::DynamoDB::Table", TableName=any_stage.res.table_name)
    p = table["Properties"]
    assert p["KeySchema"] == [
        {"AttributeName": t.hash_key, "KeyType": "HASH"},
        {"AttributeName": t.range_key, "KeyType": "RANGE"},
    ]
    assert {
        ix["IndexName"]: (
            [k["AttributeName"] for k in ix["KeySchema"]],
            ix["Projection"]["ProjectionType"],
        )
        for ix in p["GlobalSecondaryIndexes"]
    } == {ix.name: ([ix.hash_key, ix.range_key], "ALL") for ix in t.indexes}
    assert p["BillingMode"] == "PAY_PER_REQUEST"
    assert p["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert p["SSESpecification"]["SSEEnabled"] is True
    assert p["SSESpecification"]["SSEType"] == "KMS"
    assert p["SSESpecification"]["KMSMasterKeyId"] == {"Fn::GetAtt": [data_key(any_stage), "Arn"]}
    assert p["TimeToLiveSpecification"] == {"AttributeName": t.ttl_attribute, "Enabled": True}


def test_table_serves_every_model_the_code_queries(dev: Synth) -> None:
    """Keys, GSIs (with their projection) and TTL of every PynamoDB model under the API equal
    the deployed table's: a model that queried an index the stack lacks would fail only on AWS."""
    from chalicelib.core import db, route_table

    # Routes load lazily (ADR 0017): import every module's routes, and with them its models,
    # whatever other tests this worker happened to run first.
    route_table.load_routers()

    def subclasses(cls: type) -> list[type]:
        return [c for sub in cls.__subclasses__() for c in (sub, *subclasses(sub))]

    models = [db.Item, *subclasses(db.Item)]
    assert len(models) > 20  # every module's items, not just the base
    _, table = one(dev, "AWS::DynamoDB::Table")
    p = table["Properties"]
    deployed = {
        ix["IndexName"]: (
            tuple(k["AttributeName"] for k in ix["KeySchema"]),
            ix["Projection"]["ProjectionType"],
        )
        for ix in p["GlobalSecondaryIndexes"]
    }
    for m in models:
        assert [m._hash_key_attribute().attr_name, m._range_key_attribute().attr_name] == [
            k["AttributeName"] for k in p["KeySchema"]
        ], m
        ttl = m._ttl_attribute()
        assert ttl is None or ttl.attr_name == p["TimeToLiveSpecification"]["AttributeName"]
        for name, ix in m._indexes.items():
            attrs = ix.Meta.attributes.values()
            keys = tuple(a.attr_name for a in attrs if a.is_hash_key) + tuple(
                a.attr_name for a in attrs if a.is_range_key
            )
            projection = type(ix.Meta.projection).__name__.removesuffix("Projection").upper()
            assert deployed.get(name) == (keys, projection), (m, name)


def test_deletion_protection_in_prod_only(dev: Synth, prod: Synth) -> None:
    _, d = one(dev, "AWS::DynamoDB::Table")
    _, p = one(prod, "AWS::DynamoDB::Table")
    assert d["Properties"].get("DeletionProtectionEnabled") is False
    assert p["Properties"]["DeletionProtectionEnabled"] is True
    assert p["DeletionPolicy"] == "Retain"
    assert d["DeletionPolicy"] == "Delete"


# -- media bucket ------------------------------------------------------------------------------


def test_media_bucket(any_stage: Synth) -> None:
    s = any_stage
    bid, bucket = one(s, "AWS::S3::Bucket", BucketName=s.res.media_bucket)
    p = bucket["Properties"]
    assert p["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    enc = p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert enc["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": {"Fn::GetAtt": [data_key(s), "Arn"]},
    }
    assert p["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket["DeletionPolicy"] == "Retain"
    # TLS only
    s.template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "Bucket": {"Ref": bid},
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Action": "s3:*",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            },
        },
    )
    # CORS: the SPA's origin only (its custom domain, else the CloudFront domain), for
    # presigned POST uploads
    (rule,) = p["CorsConfiguration"]["CorsRules"]
    assert rule["AllowedOrigins"] == [spa_origin(s)]
    assert "POST" in rule["AllowedMethods"] and "PUT" not in rule["AllowedMethods"]
    # S3 -> EventBridge
    s.template.has_resource_properties(
        "Custom::S3BucketNotifications",
        {
            "BucketName": {"Ref": bid},
            "NotificationConfiguration": {"EventBridgeConfiguration": {}},
        },
    )


def test_media_lifecycle(any_stage: Synth) -> None:
    _, bucket = one(any_stage, "AWS::S3::Bucket", BucketName=any_stage.res.media_bucket)
    rules = {r["Id"]: r for r in bucket["Properties"]["LifecycleConfiguration"]["Rules"]}
    originals = rules["originals-to-cold-storage"]
    key, value = ORIGINAL_OBJECT_TAG
    # Only tagged originals move; renditions (untagged) stay STANDARD.
    assert originals["TagFilters"] == [{"Key": key, "Value": value}]
    assert "Prefix" not in originals
    assert originals["Transitions"] == [
        {"StorageClass": "STANDARD_IA", "TransitionInDays": 90},
        {"StorageClass": "GLACIER_IR", "TransitionInDays": 730},
    ]
    tiering = [r for r in rules.values() if r.get("Transitions")]
    assert tiering == [originals]
    assert rules["abort-incomplete-multipart-uploads"]["AbortIncompleteMultipartUpload"] == {
        "DaysAfterInitiation": 7
    }
    # GDPR exports (ADR 1401): tagged ZIPs deleted after 7 days, their old versions a day later
    exports = rules["expire-gdpr-exports"]
    key, value = GDPR_EXPORT_TAG
    assert exports["TagFilters"] == [{"Key": key, "Value": value}]
    assert exports["ExpirationInDays"] == GDPR_EXPORT_DAYS == 7
    assert exports["NoncurrentVersionExpiration"]["NoncurrentDays"] == 1
    assert EXPORT_TAG == GDPR_EXPORT_TAG  # what the worker tags is what the rule matches


# -- VERI*FACTU archive (ADR 0206) --------------------------------------------------------------


def archive_bucket_id(s: Synth) -> str:
    bid, _ = one(s, "AWS::S3::Bucket", BucketName=s.res.archive_bucket)
    return bid


def test_archive_bucket_is_worm(any_stage: Synth) -> None:
    """Object Lock (COMPLIANCE, the stage's default retention: 7 years in prod), versioning,
    encryption that no key deletion can undo (SSE-S3), no public access, TLS and write-once
    puts only, never deleted with the stack."""
    s = any_stage
    bid, bucket = one(s, "AWS::S3::Bucket", BucketName=s.res.archive_bucket)
    p = bucket["Properties"]
    assert p["ObjectLockEnabled"] is True
    assert p["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": s.res.archive_lock.days}},
    }
    assert s.res.archive_lock.days == (2557 if s.stage == "prod" else 1)
    assert p["VersioningConfiguration"] == {"Status": "Enabled"}
    enc = p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert enc["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert p["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["DeletionPolicy"] == "Retain" and bucket["UpdateReplacePolicy"] == "Retain"
    assert "LifecycleConfiguration" not in p  # nothing expires or moves the legal copies
    (policy,) = [
        v
        for v in s.resources("AWS::S3::BucketPolicy").values()
        if v["Properties"]["Bucket"] == {"Ref": bid}
    ]
    st = {x.get("Sid", x["Action"]): x for x in policy["Properties"]["PolicyDocument"]["Statement"]}
    assert st["s3:*"]["Effect"] == "Deny"
    assert st["s3:*"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    once = st["WriteOnceOnly"]
    assert (once["Effect"], once["Action"]) == ("Deny", "s3:PutObject")
    assert once["Principal"] == {"AWS": "*"}
    assert once["Condition"] == {"Null": {"s3:if-none-match": "true"}}
    outs = {k: v["Value"] for k, v in s.json["Outputs"].items()}
    assert outs["ArchiveBucketName"] == {"Ref": bid}


def _archive_actions(s: Synth, role_id: str, bid: str) -> set[str]:
    """Actions a role has on the archive bucket or its objects."""
    found: set[str] = set()
    for st in policy_of_role(s, role_id):
        if bid in json.dumps(st.get("Resource", "")):
            found |= set(as_list(st["Action"]))
    return found


def test_only_the_submission_job_writes_the_archive_and_the_api_reads_it(dev: Synth) -> None:
    s = dev
    bid = archive_bucket_id(s)
    roles = {
        k: v
        for k, v in s.resources("AWS::IAM::Role").items()
        if "lambda.amazonaws.com" in json.dumps(v["Properties"]["AssumeRolePolicyDocument"])
    }
    (submit,) = [sc for sc in s.res.schedules if sc.name == "aeat-submit"]
    assert "archive_write" in submit.grants
    _, sched = one(s, "AWS::Scheduler::Schedule", Name=f"{s.res.prefix}-aeat-submit")
    fn_id = sched["Properties"]["Target"]["Arn"]["Fn::GetAtt"][0]
    submit_role = s.json["Resources"][fn_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    api_role = s.json["Resources"]["APIHandler"]["Properties"]["Role"]
    api_role = next(k for k in roles if k in json.dumps(api_role))
    writers, readers = set(), set()
    for role_id in roles:
        acts = _archive_actions(s, role_id, bid)
        assert not {a for a in acts if "Delete" in a or "Retention" in a or "LegalHold" in a}
        assert "s3:*" not in acts and "s3:PutObject*" not in acts
        if "s3:PutObject" in acts:
            writers.add(role_id)
        if "s3:GetObject" in acts:
            readers.add(role_id)
    assert writers == {submit_role}
    # The job reads back a copy it wrote; the API reads a clinic's copies (the chain check)
    # with that clinic's credentials only (ADR 0012), never with its own role.
    assert readers == {submit_role} and api_role not in readers


# -- SPA + CloudFront --------------------------------------------------------------------------


def test_spa_bucket_and_distribution(dev: Synth) -> None:
    s = dev
    buckets = [
        (k, v)
        for k, v in s.resources("AWS::S3::Bucket").items()
        if v["Properties"].get("BucketName") not in (s.res.media_bucket, s.res.archive_bucket)
    ]
    ((spa_id, spa),) = buckets
    assert spa["Properties"]["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] is True
    _, dist = one(s, "AWS::CloudFront::Distribution")
    cfg = dist["Properties"]["DistributionConfig"]
    s3_origin = next(o for o in cfg["Origins"] if "S3OriginConfig" in o)
    assert s3_origin["DomainName"] == {"Fn::GetAtt": [spa_id, "RegionalDomainName"]}
    assert "OriginAccessControlId" in s3_origin
    one(s, "AWS::CloudFront::OriginAccessControl")
    # bucket policy lets only this distribution read
    s.template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "Bucket": {"Ref": spa_id},
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": "s3:GetObject",
                                "Principal": {"Service": "cloudfront.amazonaws.com"},
                            }
                        )
                    ]
                )
            },
        },
    )
    # SPA fallback on the default (S3) behaviour only, so API 404s are not rewritten
    assert cfg["DefaultRootObject"] == "index.html"
    assert "CustomErrorResponses" not in cfg
    (assoc,) = cfg["DefaultCacheBehavior"]["FunctionAssociations"]
    assert assoc["EventType"] == "viewer-request"
    fn_id = assoc["FunctionARN"]["Fn::GetAtt"][0]
    code = s.json["Resources"][fn_id]["Properties"]["FunctionCode"]
    assert "/index.html" in code
    assert cfg["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"


def test_spa_fallback_function_logic(dev: Synth, tmp_path: Any) -> None:
    """Run the CloudFront Function's JS with node: routes -> index.html, files untouched."""
    (fn,) = dev.resources("AWS::CloudFront::Function").values()
    script = tmp_path / "fn.js"
    script.write_text(
        fn["Properties"]["FunctionCode"]
        + "\nfor (const u of ['/', '/patients/42', '/assets/app.3f.js', '/favicon.ico']) "
        "console.log(u + ' ' + handler({request: {uri: u}}).uri);\n"
    )
    out = subprocess.run(["node", str(script)], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:4] == [
        "/ /index.html",
        "/patients/42 /index.html",
        "/assets/app.3f.js /assets/app.3f.js",
        "/favicon.ico /favicon.ico",
    ]


def _headers_policy(s: Synth, path_pattern: str | None) -> dict[str, Any]:
    """The security headers of the distribution's behaviour for ``path_pattern`` (None: the
    default behaviour, the SPA)."""
    _, dist = one(s, "AWS::CloudFront::Distribution")
    cfg = dist["Properties"]["DistributionConfig"]
    if path_pattern is None:
        behaviour = cfg["DefaultCacheBehavior"]
    else:
        (behaviour,) = [b for b in cfg["CacheBehaviors"] if b["PathPattern"] == path_pattern]
    logical_id = behaviour["ResponseHeadersPolicyId"]["Ref"]
    policy = s.resources("AWS::CloudFront::ResponseHeadersPolicy")[logical_id]
    headers = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    csp = headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    if isinstance(csp, dict):  # the SPA's names the live WebSocket API's domain (a Fn::Join)
        headers["ContentSecurityPolicy"]["ContentSecurityPolicy"] = _join_text(csp)
    return headers


def _join_text(value: Any) -> str:
    """A Fn::Join as text, its tokens as ``{Ref}``-like placeholders."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return sep.join(_join_text(p) for p in parts)
    return "{" + json.dumps(value) + "}"


def test_api_pages_keep_their_own_content_security_policy(dev: Synth) -> None:
    """The patient budget page signs with an inline script allowed by its own nonce CSP: on
    /api/* CloudFront only adds a CSP where the answer has none (the SPA's would block it)."""
    api = _headers_policy(dev, "/api/*")
    assert api["ContentSecurityPolicy"]["Override"] is False
    assert "default-src 'none'" in api["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    assert api["StrictTransportSecurity"]["Override"] is True
    assert api["ContentTypeOptions"]["Override"] is True
    spa = _headers_policy(dev, None)
    assert spa["ContentSecurityPolicy"]["Override"] is True
    assert "script-src 'self'" in spa["ContentSecurityPolicy"]["ContentSecurityPolicy"]


def test_security_headers(dev: Synth) -> None:
    h = _headers_policy(dev, None)
    assert h["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert h["StrictTransportSecurity"]["IncludeSubdomains"] is True
    assert "default-src 'self'" in h["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    assert "frame-ancestors 'none'" in h["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    script = _directive(h["ContentSecurityPolicy"]["ContentSecurityPolicy"], "script-src")
    assert script == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert h["ContentTypeOptions"]["Override"] is True
    assert h["ReferrerPolicy"]["ReferrerPolicy"] == "strict-origin-when-cross-origin"
    assert h["FrameOptions"]["FrameOption"] == "DENY"


def _directive(csp: str, name: str) -> list[str]:
    (found,) = [d.split()[1:] for d in csp.split(";") if d.split()[:1] == [name]]
    return found


def test_api_behaviour_uncached_to_api_stage(dev: Synth) -> None:
    _, dist = one(dev, "AWS::CloudFront::Distribution")
    cfg = dist["Properties"]["DistributionConfig"]
    (api,) = [b for b in cfg["CacheBehaviors"] if b["PathPattern"] == "/api/*"]
    assert api["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CachingDisabled
    # AllViewerExceptHostHeader: with caching disabled it forwards Authorization, query
    # strings and cookies (Host must stay the execute-api host).
    assert api["OriginRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"
    assert set(api["AllowedMethods"]) == {
        "GET",
        "HEAD",
        "OPTIONS",
        "PUT",
        "PATCH",
        "POST",
        "DELETE",
    }
    origin = next(o for o in cfg["Origins"] if o["Id"] == api["TargetOriginId"])
    # https://<cf>/api/v1/health -> https://<id>.execute-api.../api + /api/v1/health
    # = stage "api", Chalice route /api/v1/health
    assert origin["OriginPath"] == "/api"
    assert origin["DomainName"]["Fn::Join"][1][0] == {"Ref": "RestAPI"}
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    config = json.loads(Path(".chalice/config.json").read_text())
    assert {st["api_gateway_stage"] for st in config["stages"].values()} == {"api"}


# -- the Chalice API ---------------------------------------------------------------------------


def test_chalice_api(any_stage: Synth) -> None:
    from chalice.cdk import Chalice

    import app

    s = any_stage
    assert isinstance(s.stack.api, Chalice)  # the chalice CDK construct packaged it
    api = s.json["Resources"]["RestAPI"]["Properties"]
    assert api["StageName"] == "api"
    assert set(app.app.routes) == set(api["DefinitionBody"]["paths"])  # every route
    assert "/api/v1/health" in api["DefinitionBody"]["paths"]
    assert (
        api["EndpointConfiguration"] == {"Type": "REGIONAL"}
        or api["EndpointConfiguration"] == "REGIONAL"
    )
    gr = api["GatewayResponses"]["MISSING_AUTHENTICATION_TOKEN"]
    assert gr["StatusCode"] == "404"
    assert json.loads(gr["ResponseTemplates"]["application/json"]) == NOT_FOUND_BODY
    (ms,) = api["MethodSettings"]
    assert ms["ResourcePath"] == "/*" and ms["HttpMethod"] == "*"
    assert ms["ThrottlingRateLimit"] > 0 and ms["ThrottlingBurstLimit"] > 0
    fn = s.json["Resources"]["APIHandler"]["Properties"]
    assert fn["Handler"] == "app.app"
    env = fn["Environment"]["Variables"]
    assert env["TABLE_NAME"] == s.res.table_name
    assert env["MEDIA_BUCKET"] == s.res.media_bucket
    assert env["EVENT_BUS_NAME"] == s.res.event_bus
    assert env["KMS_KEY_ALIAS"] == s.res.kms_alias
    assert env["SIGNING_SECRET_NAME"] == s.res.signing_secret
    assert env["MAIL_SENDER"] == s.res.mail_sender
    # every send names the stage's configuration set, so its bounces reach ses-feedback
    (_, cset) = one(s, "AWS::SES::ConfigurationSet", Name=s.res.prefix)
    assert env["MAIL_CONFIGURATION_SET"] == cset["Properties"]["Name"]
    assert env["TRUSTED_PROXY_HOPS"] == "1"
    assert env["QUEUE_NAMES"] == ",".join(s.res.queue_name(q) for q in s.res.queues)
    assert "Layers" not in fn  # the API never gets the imaging layer


# -- bus, queues, rules, workers ---------------------------------------------------------------


def test_queues_dlqs_rules_equal_resources(any_stage: Synth) -> None:
    s = any_stage
    res = s.res
    one(s, "AWS::Events::EventBus", Name=res.event_bus)
    for q in res.queues:
        dlq_id, _ = one(s, "AWS::SQS::Queue", QueueName=res.dlq_name(q))
        qid, queue = one(s, "AWS::SQS::Queue", QueueName=res.queue_name(q))
        assert queue["Properties"]["RedrivePolicy"] == {
            "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
            "maxReceiveCount": q.max_receive_count,
        }
        assert queue["Properties"]["VisibilityTimeout"] == q.visibility_timeout_s
        _, rule = one(s, "AWS::Events::Rule", Name=res.rule_name(q))
        p = rule["Properties"]
        assert p["EventPattern"] == q.event_pattern
        if q.on_default_bus:
            assert p["EventBusName"] == "default"
        else:
            bus_id, _ = one(s, "AWS::Events::EventBus")
            assert p["EventBusName"] == {"Ref": bus_id}
        assert p["Targets"][0]["Arn"] == {"Fn::GetAtt": [qid, "Arn"]}
        # EventBridge may send to the queue
        s.template.has_resource_properties(
            "AWS::SQS::QueuePolicy",
            {
                "Queues": [{"Ref": qid}],
                "PolicyDocument": {
                    "Statement": Match.array_with(
                        [
                            Match.object_like(
                                {
                                    "Action": Match.array_with(["sqs:SendMessage"]),
                                    "Principal": {"Service": "events.amazonaws.com"},
                                }
                            )
                        ]
                    )
                },
            },
        )


def _function_for_queue(s: Synth, qid: str) -> dict[str, Any]:
    (esm,) = [
        v
        for v in s.resources("AWS::Lambda::EventSourceMapping").values()
        if v["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [qid, "Arn"]}
    ]
    fn_id = esm["Properties"]["FunctionName"]["Ref"]
    return {"esm": esm, "id": fn_id, "fn": s.json["Resources"][fn_id]}


def test_workers(any_stage: Synth) -> None:
    s = any_stage
    layers = {
        v["Properties"]["Description"].split(" ")[0]: k
        for k, v in s.resources("AWS::Lambda::LayerVersion").items()
    }
    imaging_layer, deps_layer = layers["Pillow,"], layers["chalicelib"]
    for q in s.res.queues:
        qid, _ = one(s, "AWS::SQS::Queue", QueueName=s.res.queue_name(q))
        w = _function_for_queue(s, qid)
        esm, fn = w["esm"]["Properties"], w["fn"]["Properties"]
        assert esm["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert esm["BatchSize"] == q.batch_size
        module, func = q.handler.split(":")
        assert fn["Handler"] == f"functions.{module}.{func}"
        assert fn["Runtime"] == "python3.11"
        assert fn["Architectures"] == ["arm64"]
        assert fn["Timeout"] * 6 <= q.visibility_timeout_s
        # one layer each: the imaging layer carries the deps layer's packages too
        assert fn["Layers"] == [{"Ref": imaging_layer if q.needs_imaging_layer else deps_layer}]
        assert fn["Environment"]["Variables"]["TABLE_NAME"] == s.res.table_name
    # the imaging layer is attached to exactly the functions that declare it
    users = [
        k
        for k, v in s.resources("AWS::Lambda::Function").items()
        if {"Ref": imaging_layer} in v["Properties"].get("Layers", [])
    ]
    assert len(users) == sum(q.needs_imaging_layer for q in s.res.queues)


def test_alarms_on_dlqs_and_function_errors(any_stage: Synth) -> None:
    s = any_stage
    alarms = list(s.resources("AWS::CloudWatch::Alarm").values())
    dlq_alarms = {
        a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for a in alarms
        if a["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
    }
    for name in [*(s.res.dlq_name(q) for q in s.res.queues), f"{s.res.prefix}-schedules-dlq"]:
        dlq_id, _ = one(s, "AWS::SQS::Queue", QueueName=name)
        assert dlq_id in dlq_alarms, name
    error_alarms = {
        json.dumps(a["Properties"]["Dimensions"][0]["Value"])
        for a in alarms
        if a["Properties"]["MetricName"] == "Errors"
    }
    fns = [
        k
        for k, v in s.resources("AWS::Lambda::Function").items()
        if v["Properties"].get("Handler", "").startswith("functions.")
    ]
    for fn_id in [*fns, "APIHandler"]:
        assert json.dumps({"Ref": fn_id}) in error_alarms
    # Events parked because the bus refused them (ADR 0008) page someone when they stay.
    [unsent] = [a for a in alarms if a["Properties"]["MetricName"] == "UnsentEvents"]
    assert unsent["Properties"]["Namespace"] == "Cuspide"
    assert unsent["Properties"]["Dimensions"] == [{"Name": "service", "Value": "cuspide"}]
    assert all(a["Properties"]["AlarmActions"] for a in alarms)


def test_schedules(dev: Synth, prod: Synth) -> None:
    assert {sc.name for sc in dev.res.schedules} >= {
        "reminders",
        "end-of-day",
        "budget-expiry",
        "aeat-submit",
        "events-redrive",
    }
    for s in (dev, prod):
        schedules = s.resources("AWS::Scheduler::Schedule")
        assert len(schedules) == len(s.res.schedules)
        for sc in s.res.schedules:
            _, sched = one(s, "AWS::Scheduler::Schedule", Name=f"{s.res.prefix}-{sc.name}")
            p = sched["Properties"]
            assert p["ScheduleExpression"] == sc.expression
            fn_id = p["Target"]["Arn"]["Fn::GetAtt"][0]
            module, func = sc.handler.split(":")
            assert s.json["Resources"][fn_id]["Properties"]["Handler"] == (
                f"functions.{module}.{func}"
            )
            assert "DeadLetterConfig" in p["Target"]
            role_id = p["Target"]["RoleArn"]["Fn::GetAtt"][0]
            assert "lambda:InvokeFunction" in actions_of_role(s, role_id)


def test_aeat_reconcile_schedule(dev: Synth, prod: Synth) -> None:
    """The daily VERI*FACTU reconciliation (docs/adr/0205): early morning UTC, its own Lambda
    with Lambda's longest timeout, the table, the data key (the clinic certificate is sealed)
    and SES for the summary; no bus, no buckets."""
    (sc,) = [sc for sc in dev.res.schedules if sc.name == "aeat-reconcile"]
    assert (sc.expression, sc.handler) == ("cron(30 4 * * ? *)", "aeat_reconcile:handler")
    assert sc.interval_s == 86400 and set(sc.grants) == {"global", "tenant", "kms", "mail"}
    for s in (dev, prod):
        _, sched = one(s, "AWS::Scheduler::Schedule", Name=f"{s.res.prefix}-aeat-reconcile")
        p = sched["Properties"]
        assert p["ScheduleExpression"] == "cron(30 4 * * ? *)"
        assert "DeadLetterConfig" in p["Target"]
        fn_id = p["Target"]["Arn"]["Fn::GetAtt"][0]
        fn = s.json["Resources"][fn_id]["Properties"]
        assert fn["Handler"] == "functions.aeat_reconcile.handler"
        assert fn["Timeout"] == 900
        acts = actions_of_role(s, fn["Role"]["Fn::GetAtt"][0])
        assert {"ses:SendEmail", "kms:Decrypt", "dynamodb:Query"} <= acts
        assert "events:PutEvents" not in acts
        assert not any(a.startswith("s3:") for a in acts)


# -- every worker and job is its own Lambda, and gets the environment the product reads --------


def test_each_worker_and_job_is_its_own_lambda(any_stage: Synth) -> None:
    s = any_stage
    handlers = (
        [q.handler for q in s.res.queues]
        + [sc.handler for sc in s.res.schedules]
        + [s.res.live_socket.handler]
    )
    deployed = [p["Handler"] for k, p in functions(s).items() if k != "APIHandler"]
    assert sorted(deployed) == sorted(f"functions.{h.replace(':', '.')}" for h in handlers)
    # every module in functions/ is deployed: a handler nobody declares would never run
    modules = {p.stem for p in (ROOT / "functions").glob("*.py") if not p.stem.startswith("_")}
    assert modules == {h.split(":")[0] for h in handlers}


def _is_environ(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "environ") or (
        isinstance(node, ast.Name) and node.id == "environ"
    )


def env_names_read() -> dict[str, str]:
    """Every environment variable that app.py, chalicelib/ and functions/ read -> a file that
    reads it: ``os.environ[...]``, ``os.environ.get(...)``, ``os.getenv(...)`` and calls of
    a module's own helpers that read the environment (``config._env("TABLE_NAME", ...)``)."""
    found: dict[str, str] = {}
    files = [
        ROOT / "app.py",
        *(ROOT / "chalicelib").rglob("*.py"),
        *(ROOT / "functions").rglob("*.py"),
    ]
    for path in files:
        tree = ast.parse(path.read_text())
        readers = {"getenv"} | {
            fn.name
            for fn in ast.walk(tree)
            if isinstance(fn, ast.FunctionDef) and any(_is_environ(n) for n in ast.walk(fn))
        }
        for node in ast.walk(tree):
            arg: ast.AST | None = None
            if isinstance(node, ast.Subscript) and _is_environ(node.value):
                arg = node.slice
            elif isinstance(node, ast.Call) and node.args:
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if (isinstance(func, ast.Attribute) and _is_environ(func.value)) or (
                    called in readers
                ):
                    arg = node.args[0]
            name = arg.value if isinstance(arg, ast.Constant) else None
            if isinstance(name, str) and re.fullmatch(r"[A-Z][A-Z0-9_]+", name):
                found.setdefault(name, str(path.relative_to(ROOT)))
    return found


def test_environment_scan_finds_what_the_product_reads() -> None:
    """The scanner itself: names known to be read from config, db, comms, imaging, verifactu."""
    read = env_names_read()
    assert {
        "CUSPIDE_STAGE",
        "TABLE_NAME",
        "APP_URL",
        "QUEUE_NAMES",
        "WHATSAPP_GRAPH_URL",
        "IMAGING_MAX_DICOM_MB",
        "AEAT_ENDPOINT_OVERRIDE",
        "VERIFACTU_PRODUCER_NIF",
    } <= read.keys()
    # the stack's lists name only variables the product still reads (nothing dead)
    assert set(PRODUCT_OVERRIDES) | set(NOT_SET_ON_LAMBDA) <= read.keys()


def test_every_environment_variable_the_product_reads_is_set(any_stage: Synth) -> None:
    s = any_stage
    read = env_names_read()
    given = dict(s.stack.settings.product_env)
    fns = functions(s)
    assert "APIHandler" in fns
    assert len(fns) == 2 + len(s.res.queues) + len(s.res.schedules)  # + the live socket
    for fn_id, p in fns.items():
        env = p["Environment"]["Variables"]
        for name, where in sorted(read.items()):
            if name in NOT_SET_ON_LAMBDA:
                assert name not in env, f"{fn_id} must not set {name}: {NOT_SET_ON_LAMBDA[name]}"
            elif name in PRODUCT_OVERRIDES:
                # set exactly when the deployment overrides the code's default
                assert env.get(name) == given.get(name), (fn_id, name)
            elif name in ("APP_URL", "APP_URL_PARAMETER"):
                # one or the other, on every function: test_app_url
                assert {"APP_URL", "APP_URL_PARAMETER"} & env.keys(), fn_id
            else:
                assert name in env, f"{fn_id} lacks {name} (read in {where})"


def test_prod_passes_its_overrides_to_every_function(prod: Synth) -> None:
    for fn_id, p in functions(prod).items():
        env = p["Environment"]["Variables"]
        assert env["VERIFACTU_PRODUCER_NIF"] == PROD_CONTEXT["VERIFACTU_PRODUCER_NIF"], fn_id
        assert env["IMAGING_MAX_DICOM_MB"] == PROD_CONTEXT["IMAGING_MAX_DICOM_MB"], fn_id
        assert "AEAT_ENDPOINT_OVERRIDE" not in env  # prod talks to the real AEAT


def test_app_url(dev: Synth, prod: Synth) -> None:
    """Links in emails point at the SPA. With a custom domain (prod here) every function knows
    it; without, workers reference CloudFront and the API, which CloudFront routes to (a cycle),
    reads the URL from an SSM parameter the stack writes: one deploy is enough either way."""
    for fn_id, p in functions(prod).items():
        assert p["Environment"]["Variables"]["APP_URL"] == "https://app.clinica-ejemplo.es"
    for fn_id, p in functions(dev).items():
        env = p["Environment"]["Variables"]
        if fn_id == "APIHandler":
            assert "APP_URL" not in env
            assert env["APP_URL_PARAMETER"] == "/cuspide-dev/app-url"
        else:
            assert env["APP_URL"] == spa_origin(dev), fn_id
    _, param = one(dev, "AWS::SSM::Parameter", Name="/cuspide-dev/app-url")
    assert param["Properties"]["Value"] == spa_origin(dev)
    api_role = functions(dev)["APIHandler"]["Role"]["Fn::GetAtt"][0]
    [read] = [st for st in policy_of_role(dev, api_role) if st["Action"] == "ssm:GetParameter"]
    assert "parameter/cuspide-dev/app-url" in json.dumps(read["Resource"])


def test_prod_custom_domain(prod: Synth) -> None:
    _, dist = one(prod, "AWS::CloudFront::Distribution")
    cfg = dist["Properties"]["DistributionConfig"]
    assert cfg["Aliases"] == [PROD_CONTEXT["domainName"]]
    assert cfg["ViewerCertificate"]["AcmCertificateArn"] == PROD_CONTEXT["certificateArn"]
    assert cfg["ViewerCertificate"]["SslSupportMethod"] == "sni-only"
    assert prod.json["Outputs"]["SpaUrl"]["Value"] == "https://app.clinica-ejemplo.es"


# -- the API package ---------------------------------------------------------------------------

# Imaging libraries that only the imaging layer may ship. Pillow is not among them: reportlab
# (PDFs, requirements.txt) requires it and imports it, so it ships with the API, loaded on the
# first PDF only (tests/unit/imaging proves importing the API does not load it).
IMAGING_ONLY = {"numpy", "numpy.libs", "pydicom", "gdcm", "_gdcm", "pylibjpeg", "pi_heif"}
IMAGING_ONLY_DISTRIBUTIONS = {"numpy", "pydicom", "pylibjpeg", "python_gdcm", "pi_heif", "pyjpegls"}


def _api_package(s: Synth) -> Path:
    asset = s.stack.api.node.find_child("ChaliceAppCode")
    return s.path.parent / asset.asset_path  # type: ignore[attr-defined]


def test_api_package_is_lean_and_fits_lambda(dev: Synth) -> None:
    with zipfile.ZipFile(_api_package(dev)) as zf:
        infos = zf.infolist()
    names = {i.filename for i in infos}
    tops = {n.split("/")[0] for n in names}
    dists = {
        re.sub(r"-[^-]*\.dist-info$", "", t).lower().replace("-", "_")
        for t in tops
        if t.endswith(".dist-info")
    }
    # no imaging library, neither its code nor its metadata
    assert not tops & IMAGING_ONLY
    assert not dists & IMAGING_ONLY_DISTRIBUTIONS
    # but everything the API renders with: PDFs (reportlab), XML/XSD (lxml), QR, ICS
    assert {"app.py", "chalicelib", "reportlab", "lxml", "qrcode", "icalendar"} <= tops
    assert "chalicelib/verifactu/schemas/SuministroLR.xsd" in names
    # Lambda: 250 MB unzipped for the function and its layers (the API has none)
    unzipped = sum(i.file_size for i in infos)
    assert unzipped < 250 * 1024 * 1024, unzipped


def test_api_package_runs_on_its_own(dev: Synth, tmp_path: Path) -> None:
    """The package alone (manylinux x86_64 wheels, as on Lambda) imports the app without
    loading any imaging library, and reportlab in it renders a PDF page."""
    with zipfile.ZipFile(_api_package(dev)) as zf:
        zf.extractall(tmp_path / "pkg")
    code = (
        "import sys, json, io\n"
        "import app\n"
        "cold = [m for m in ('PIL', 'numpy', 'pydicom') if m in sys.modules]\n"
        "from reportlab.pdfgen import canvas\n"
        "from chalicelib.verifactu.qr import qr_matrix\n"
        "assert len(qr_matrix('https://prewww2.aeat.es/x?nif=B12345674')) >= 21\n"
        "buf = io.BytesIO(); c = canvas.Canvas(buf); c.drawString(72, 72, 'Factura'); c.save()\n"
        "assert buf.getvalue().startswith(b'%PDF-')\n"
        "print(json.dumps({'cold': cold, 'heavy': [m for m in ('numpy', 'pydicom') "
        "if m in sys.modules]}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-S", "-c", code],  # -S: no site-packages, only the package
        cwd=tmp_path / "pkg",
        env={"PYTHONPATH": str(tmp_path / "pkg"), "AWS_DEFAULT_REGION": "eu-west-3"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"cold": [], "heavy": []}


# -- mail, keys, secrets -----------------------------------------------------------------------


def test_ses_configuration_set_with_feedback(any_stage: Synth) -> None:
    s = any_stage
    cs_id, _ = one(s, "AWS::SES::ConfigurationSet", Name=s.res.prefix)
    dests = [
        v["Properties"]["EventDestination"]
        for v in s.resources("AWS::SES::ConfigurationSetEventDestination").values()
        if v["Properties"]["ConfigurationSetName"] == {"Ref": cs_id}
    ]
    assert len(dests) == 2
    for d in dests:
        assert set(d["MatchingEventTypes"]) == {"bounce", "complaint"}
        assert d["Enabled"] is True
    (sns,) = [d for d in dests if "SnsDestination" in d]
    topic_id = sns["SnsDestination"]["TopicARN"]["Ref"]
    assert s.json["Resources"][topic_id]["Type"] == "AWS::SNS::Topic"
    # ... and to the default bus, where the ses-feedback queue's rule listens
    (eb,) = [d for d in dests if "EventBridgeDestination" in d]
    assert "event-bus/default" in json.dumps(eb["EventBridgeDestination"]["EventBusArn"])
    (feedback,) = [q for q in s.res.queues if q.event_pattern["source"] == ["aws.ses"]]
    assert feedback.on_default_bus
    identities = s.resources("AWS::SES::EmailIdentity")
    if s.stage == "prod":
        ((_, ident),) = identities.items()
        assert ident["Properties"]["EmailIdentity"] == s.res.mail_sender.split("@")[1]
        assert ident["Properties"]["ConfigurationSetAttributes"] == {
            "ConfigurationSetName": {"Ref": cs_id}
        }
    else:
        assert identities == {}


def test_kms_key_rotation_and_alias(any_stage: Synth) -> None:
    s = any_stage
    (key_id, key), *_ = s.resources("AWS::KMS::Key").items()
    assert key["Properties"]["EnableKeyRotation"] is True
    one(s, "AWS::KMS::Alias", AliasName=s.res.kms_alias)


def test_signing_secret_bootstrapped_with_keys_shape(any_stage: Synth) -> None:
    s = any_stage
    sid, secret = one(s, "AWS::SecretsManager::Secret", Name=s.res.signing_secret)
    assert "KmsKeyId" in secret["Properties"]
    (boot,) = s.resources("Custom::SigningKeys").values()
    assert boot["Properties"]["SecretId"] == {"Ref": sid}
    # The inline bootstrap writes a document chalicelib.core.keys can load.
    fn_id = boot["Properties"]["ServiceToken"]["Fn::GetAtt"][0]
    code = s.json["Resources"][fn_id]["Properties"]["Code"]["ZipFile"]
    ns: dict[str, Any] = {}
    exec(code.replace("import boto3, cfnresponse", ""), ns)  # noqa: S102 - our own code
    doc = {"jwt": ns["ring"](), "links": ns["ring"]()}
    import base64

    for section in ("jwt", "links"):
        ring = doc[section]
        assert ring["active"] in ring["keys"]
        assert len(base64.b64decode(ring["keys"][ring["active"]])) == 32


# -- IAM ---------------------------------------------------------------------------------------


def test_no_star_action_on_star_resource(any_stage: Synth) -> None:
    for rid, st in statements(any_stage):
        if st.get("Effect") != "Allow":
            continue
        actions = as_list(st.get("Action", []))
        resources = as_list(st.get("Resource", []))
        assert not ("*" in actions and "*" in resources), (rid, st)
        assert "*" not in actions, (rid, st)


def test_least_privilege_per_function(dev: Synth) -> None:
    s = dev
    by_grants = {q.name: q.grants for q in s.res.queues}
    for q in s.res.queues:
        qid, _ = one(s, "AWS::SQS::Queue", QueueName=s.res.queue_name(q))
        w = _function_for_queue(s, qid)
        role_id = w["fn"]["Properties"]["Role"]["Fn::GetAtt"][0]
        acts = actions_of_role(s, role_id)
        assert "s3:PutObject" not in acts, q.name  # objects only with a clinic's credentials
        assert ("ses:SendEmail" in acts) == ("mail" in by_grants[q.name]), q.name
        assert ("secretsmanager:GetSecretValue" in acts) == ("secrets" in by_grants[q.name])
        # it consumes only its own queue
        consume = [
            st for st in policy_of_role(s, role_id) if "sqs:ReceiveMessage" in as_list(st["Action"])
        ]
        assert [st["Resource"] for st in consume] == [{"Fn::GetAtt": [qid, "Arn"]}]
    for sc in s.res.schedules:
        _, sched = one(s, "AWS::Scheduler::Schedule", Name=f"{s.res.prefix}-{sc.name}")
        fn_id = sched["Properties"]["Target"]["Arn"]["Fn::GetAtt"][0]
        role_id = s.json["Resources"][fn_id]["Properties"]["Role"]["Fn::GetAtt"][0]
        acts = actions_of_role(s, role_id)
        # only the VERI*FACTU archive (the submission job; see the archive test)
        assert ("s3:PutObject" in acts) == ("archive_write" in sc.grants), sc.name
        assert ("ses:SendEmail" in acts) == ("mail" in sc.grants), sc.name
        assert ("secretsmanager:GetSecretValue" in acts) == ("secrets" in sc.grants), sc.name
        assert ("events:PutEvents" in acts) == ("events" in sc.grants), sc.name
        assert not any(a.startswith("sqs:Receive") for a in acts), sc.name


# -- outputs -----------------------------------------------------------------------------------


def test_outputs(any_stage: Synth) -> None:
    s = any_stage
    outs = {k: v["Value"] for k, v in s.json["Outputs"].items()}
    spa = spa_origin(s)
    assert outs["SpaUrl"] == spa
    if isinstance(spa, str):
        assert outs["ApiUrl"] == f"{spa}/api/v1"
    else:
        assert outs["ApiUrl"] == {"Fn::Join": ["", [*spa["Fn::Join"][1], "/api/v1"]]}
    bucket_id, _ = one(s, "AWS::S3::Bucket", BucketName=s.res.media_bucket)
    table_id, _ = one(s, "AWS::DynamoDB::Table")
    assert outs["MediaBucketName"] == {"Ref": bucket_id}
    assert outs["TableName"] == {"Ref": table_id}
    assert "RestAPI" in json.dumps(outs["ApiGatewayUrl"])


# -- one source of truth: the local stack and the CDK stack agree ------------------------------


class _Recorder:
    """Stands in for boto3 clients: records what provision() asks moto to create."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def client(self, service: str) -> Any:
        rec = self

        class C:
            def __getattr__(self, op: str) -> Any:
                def call(**kw: Any) -> Any:
                    rec.calls.append((service, op, kw))
                    if op == "create_queue":
                        return {"QueueUrl": f"url:{kw['QueueName']}"}
                    if op == "get_queue_attributes":
                        return {"Attributes": {"QueueArn": f"arn:{kw['QueueUrl'][4:]}"}}
                    if op == "list_aliases":
                        return {"Aliases": []}
                    if op == "create_key":
                        return {"KeyMetadata": {"KeyId": "k"}}
                    return {}

                return call

        return C()

    def of(self, op: str) -> list[dict[str, Any]]:
        return [kw for _, o, kw in self.calls if o == op]


def test_local_stack_and_cdk_stack_agree(any_stage: Synth, monkeypatch: Any) -> None:
    from infra.local import provision as prov

    s = any_stage
    rec = _Recorder()
    monkeypatch.setattr(prov, "_client", lambda service, endpoint, region: rec.client(service))
    prov.provision(s.res, "http://unused", secret_value="{}")

    # table
    (ct,) = rec.of("create_table")
    _, table = one(s, "AWS::DynamoDB::Table")
    tp = table["Properties"]
    assert ct["TableName"] == tp["TableName"]
    assert ct["KeySchema"] == tp["KeySchema"]
    assert sorted(ct["AttributeDefinitions"], key=str) == sorted(
        tp["AttributeDefinitions"], key=str
    )

    def gsis(items: list[dict[str, Any]]) -> dict[str, Any]:
        return {g["IndexName"]: (g["KeySchema"], g["Projection"]["ProjectionType"]) for g in items}

    assert gsis(ct["GlobalSecondaryIndexes"]) == gsis(tp["GlobalSecondaryIndexes"])
    (ttl,) = rec.of("update_time_to_live")
    assert ttl["TimeToLiveSpecification"] == tp["TimeToLiveSpecification"]

    # queues, DLQs, maxReceiveCount
    local_queues = {kw["QueueName"]: kw.get("Attributes", {}) for kw in rec.of("create_queue")}
    cdk_queues = {
        v["Properties"]["QueueName"]: v["Properties"]
        for v in s.resources("AWS::SQS::Queue").values()
        if not v["Properties"]["QueueName"].endswith("-schedules-dlq")
    }
    assert set(local_queues) == set(cdk_queues)
    for name, attrs in local_queues.items():
        if "RedrivePolicy" in attrs:
            local_rp = json.loads(attrs["RedrivePolicy"])
            cdk_rp = cdk_queues[name]["RedrivePolicy"]
            assert local_rp["maxReceiveCount"] == cdk_rp["maxReceiveCount"]
            dlq_id = cdk_rp["deadLetterTargetArn"]["Fn::GetAtt"][0]
            dlq_name = s.json["Resources"][dlq_id]["Properties"]["QueueName"]
            assert local_rp["deadLetterTargetArn"] == f"arn:{dlq_name}"
            assert int(attrs["VisibilityTimeout"]) == cdk_queues[name]["VisibilityTimeout"]

    # bus, rules and their patterns, on the same bus
    assert [kw["Name"] for kw in rec.of("create_event_bus")] == [
        v["Properties"]["Name"] for v in s.resources("AWS::Events::EventBus").values()
    ]
    local_rules = {
        kw["Name"]: (kw["EventBusName"], json.loads(kw["EventPattern"]))
        for kw in rec.of("put_rule")
    }
    cdk_rules = {}
    for v in s.resources("AWS::Events::Rule").values():
        p = v["Properties"]
        bus = p["EventBusName"]
        if isinstance(bus, dict):
            bus = s.json["Resources"][bus["Ref"]]["Properties"]["Name"]
        cdk_rules[p["Name"]] = (bus, p["EventPattern"])
    assert local_rules == cdk_rules
    for kw in rec.of("put_targets"):
        assert kw["Targets"][0]["Arn"].startswith("arn:")  # each rule targets its queue

    # schedules: the local scheduler and the CDK stack read the same list
    cdk_schedules = {
        v["Properties"]["Name"]: v["Properties"]["ScheduleExpression"]
        for v in s.resources("AWS::Scheduler::Schedule").values()
    }
    assert cdk_schedules == {f"{s.res.prefix}-{sc.name}": sc.expression for sc in s.res.schedules}

    # names the product reads from its environment
    env = prov.env_for(s.res, "http://unused")
    api_env = s.json["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]
    for k in (
        "CUSPIDE_STAGE",
        "TABLE_NAME",
        "MEDIA_BUCKET",
        "EVENT_BUS_NAME",
        "KMS_KEY_ALIAS",
        "SIGNING_SECRET_NAME",
        "MAIL_SENDER",
        "QUEUE_NAMES",
    ):
        assert api_env[k] == env[k], k
    assert api_env["ARCHIVE_BUCKET"] == env["ARCHIVE_BUCKET"] == s.res.archive_bucket

    # the VERI*FACTU archive: Object Lock and its default retention, as the CDK stack declares
    _, archive = one(s, "AWS::S3::Bucket", BucketName=s.res.archive_bucket)
    (created,) = [kw for kw in rec.of("create_bucket") if kw["Bucket"] == s.res.archive_bucket]
    assert created["ObjectLockEnabledForBucket"] is True
    (lock,) = rec.of("put_object_lock_configuration")
    assert lock["Bucket"] == s.res.archive_bucket
    assert lock["ObjectLockConfiguration"] == archive["Properties"]["ObjectLockConfiguration"]
    (enc,) = [kw for kw in rec.of("put_bucket_encryption") if kw["Bucket"] == s.res.archive_bucket]
    assert (
        enc["ServerSideEncryptionConfiguration"]["Rules"][0]["ApplyServerSideEncryptionByDefault"]
        == archive["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
            "ServerSideEncryptionByDefault"
        ]
    )
    blocks = {kw["Bucket"]: kw for kw in rec.of("put_public_access_block")}
    assert (
        blocks[s.res.archive_bucket]["PublicAccessBlockConfiguration"]
        == archive["Properties"]["PublicAccessBlockConfiguration"]
    )
    # the media bucket: versioning, default encryption, public access block, CORS (but its
    # origins) and lifecycle rules as the stack declares them (infra/resources.py MediaBucket)
    _, media = one(s, "AWS::S3::Bucket", BucketName=s.res.media_bucket)
    mp = media["Properties"]
    (ver,) = rec.of("put_bucket_versioning")
    assert ver["Bucket"] == s.res.media_bucket
    assert ver["VersioningConfiguration"] == mp["VersioningConfiguration"]
    (menc,) = [kw for kw in rec.of("put_bucket_encryption") if kw["Bucket"] == s.res.media_bucket]
    (local_rule,) = menc["ServerSideEncryptionConfiguration"]["Rules"]
    (cdk_rule,) = mp["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    local_default = local_rule["ApplyServerSideEncryptionByDefault"]
    cdk_default = cdk_rule["ServerSideEncryptionByDefault"]
    assert local_default["SSEAlgorithm"] == cdk_default["SSEAlgorithm"] == "aws:kms"
    assert cdk_default["KMSMasterKeyID"] == {"Fn::GetAtt": [data_key(s), "Arn"]}
    assert local_default["KMSMasterKeyID"] == s.res.kms_alias  # the local stand-in of that key
    assert local_rule["BucketKeyEnabled"] == cdk_rule["BucketKeyEnabled"] is True
    assert (
        blocks[s.res.media_bucket]["PublicAccessBlockConfiguration"]
        == mp["PublicAccessBlockConfiguration"]
    )
    (cors,) = [kw for kw in rec.of("put_bucket_cors") if kw["Bucket"] == s.res.media_bucket]
    (local_cors,) = cors["CORSConfiguration"]["CORSRules"]
    (cdk_cors,) = mp["CorsConfiguration"]["CorsRules"]
    assert local_cors["AllowedMethods"] == cdk_cors["AllowedMethods"]
    assert local_cors["AllowedHeaders"] == cdk_cors["AllowedHeaders"]
    assert local_cors["ExposeHeaders"] == cdk_cors["ExposedHeaders"]
    assert local_cors["MaxAgeSeconds"] == cdk_cors["MaxAge"]
    (lc,) = rec.of("put_bucket_lifecycle_configuration")
    assert lc["Bucket"] == s.res.media_bucket
    local_rules = {r["ID"]: _lifecycle_s3(r) for r in lc["LifecycleConfiguration"]["Rules"]}
    cdk_rules = {r["Id"]: _lifecycle_cfn(r) for r in mp["LifecycleConfiguration"]["Rules"]}
    assert local_rules == cdk_rules
    assert set(cdk_rules) == {
        "originals-to-cold-storage",
        "abort-incomplete-multipart-uploads",
        "expire-old-versions",
        "expire-gdpr-exports",
    }

    (ck,) = rec.of("create_alias")
    assert ck["AliasName"] == s.res.kms_alias
    (cs,) = rec.of("create_secret")
    assert cs["Name"] == s.res.signing_secret


def _lifecycle_s3(r: dict[str, Any]) -> dict[str, Any]:
    """A lifecycle rule of the S3 API (what the local stack puts), normalised."""
    tag = r["Filter"].get("Tag")
    return {
        "tags": [(tag["Key"], tag["Value"])] if tag else [],
        "transitions": [(t["StorageClass"], t["Days"]) for t in r.get("Transitions", [])],
        "abort": r.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation"),
        "noncurrent": r.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays"),
        "delete_marker": r.get("Expiration", {}).get("ExpiredObjectDeleteMarker", False),
        "expiration": r.get("Expiration", {}).get("Days"),
        "enabled": r["Status"] == "Enabled",
    }


def _lifecycle_cfn(r: dict[str, Any]) -> dict[str, Any]:
    """A lifecycle rule of the CloudFormation template, normalised the same way."""
    noncurrent = r.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays") or r.get(
        "NoncurrentVersionExpirationInDays"
    )
    return {
        "tags": [(t["Key"], t["Value"]) for t in r.get("TagFilters", [])],
        "transitions": [
            (t["StorageClass"], t["TransitionInDays"]) for t in r.get("Transitions", [])
        ],
        "abort": r.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation"),
        "noncurrent": noncurrent,
        "delete_marker": r.get("ExpiredObjectDeleteMarker", False),
        "expiration": r.get("ExpirationInDays"),
        "enabled": r["Status"] == "Enabled",
    }


def test_prod_resources_are_for_stage_prod(prod: Synth) -> None:
    assert prod.res == for_stage("prod")


# -- cfn-lint ----------------------------------------------------------------------------------


def test_cfn_lint_reports_no_errors(dev: Synth, prod: Synth) -> None:
    """cfn-lint (with the SAM transform it runs locally) on both synthesized templates."""
    out = subprocess.run(
        [
            str(Path(sys.executable).parent / "cfn-lint"),
            "--format",
            "parseable",
            "--regions",
            dev.stack.settings.region,
            "--",
            str(dev.path),
            str(prod.path),
        ],
        capture_output=True,
        text=True,
    )
    # Exit code is a bit mask: 2 errors, 4 warnings, 8 informational; 1 is a crash.
    errors = [line for line in out.stdout.splitlines() if ":E" in line]
    assert not errors, "\n".join(errors)
    assert out.returncode & 3 == 0, out.stdout + out.stderr


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_cdk_nag_like_basics(stage: str, request: pytest.FixtureRequest) -> None:
    """Every SQS queue is encrypted and TLS-only; every Lambda has a bounded log group."""
    s: Synth = request.getfixturevalue(stage)
    for q in s.resources("AWS::SQS::Queue").values():
        assert q["Properties"]["SqsManagedSseEnabled"] is True
    for v in s.resources("AWS::Lambda::Function").values():
        if "LoggingConfig" in v["Properties"]:
            lg = v["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
            assert s.json["Resources"][lg]["Properties"]["RetentionInDays"] > 0


def test_synthesis_leaves_the_test_environment_alone(dev: Synth, prod: Synth) -> None:
    """The Chalice construct loads the app with a stage's variables in os.environ; the tests
    that run after synthesis in the same process must still see the test stage's."""
    from tests.conftest import RESOURCES

    assert os.environ["CUSPIDE_STAGE"] == RESOURCES.stage
    assert os.environ["KMS_KEY_ALIAS"] == RESOURCES.kms_alias
    assert os.environ["TABLE_NAME"] == RESOURCES.table_name


# -- live notifications (docs/adr/1101-live-notifications.md) -----------------------------------


def _live_socket_function(s: Synth) -> tuple[str, dict[str, Any]]:
    handler = "functions." + s.res.live_socket.handler.replace(":", ".")
    (found,) = [(k, p) for k, p in functions(s).items() if p.get("Handler") == handler]
    return found


def test_live_websocket_api_routes_to_the_socket_function(any_stage: Synth) -> None:
    s = any_stage
    api_id, api = one(s, "AWS::ApiGatewayV2::Api", Name=s.res.live_api)
    assert api["Properties"]["ProtocolType"] == "WEBSOCKET"
    routes = {
        v["Properties"]["RouteKey"]: v["Properties"]
        for v in s.resources("AWS::ApiGatewayV2::Route").values()
        if v["Properties"]["ApiId"] == {"Ref": api_id}
    }
    assert set(routes) == {"$connect", "$disconnect", "$default"}
    # no authorizer: $connect authenticates the ticket itself
    assert all(r.get("AuthorizationType", "NONE") == "NONE" for r in routes.values())
    # pings are answered through the $default route's response
    (rr,) = s.resources("AWS::ApiGatewayV2::RouteResponse").values()
    assert rr["Properties"]["RouteResponseKey"] == "$default"
    assert routes["$default"]["RouteResponseSelectionExpression"] == "$default"
    fn_id, fn = _live_socket_function(s)
    integrations = list(s.resources("AWS::ApiGatewayV2::Integration").values())
    assert len(integrations) == 1
    assert integrations[0]["Properties"]["IntegrationType"] == "AWS_PROXY"
    assert fn_id in json.dumps(integrations[0]["Properties"]["IntegrationUri"])
    # API Gateway may invoke it
    perms = [
        p["Properties"]
        for p in s.resources("AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [fn_id, "Arn"]}
    ]
    assert perms and all(p["Principal"] == "apigateway.amazonaws.com" for p in perms)
    _, stage = one(s, "AWS::ApiGatewayV2::Stage", StageName=s.res.live_socket.stage)
    assert stage["Properties"]["AutoDeploy"] is True
    assert stage["Properties"]["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0


def test_live_queue_rule_and_dlq(any_stage: Synth) -> None:
    s = any_stage
    (q,) = [q for q in s.res.queues if q.name == "live"]
    _, rule = one(s, "AWS::Events::Rule", Name=s.res.rule_name(q))
    assert rule["Properties"]["EventPattern"] == {
        "source": ["cuspide"],
        "detail-type": [
            {"prefix": "image."},
            {"prefix": "capture."},
            {"prefix": "appointment."},
            {"prefix": "document."},
            {"prefix": "inventory."},
            {"prefix": "lab."},
            "message.received",
        ],
    }
    qid, queue = one(s, "AWS::SQS::Queue", QueueName=s.res.queue_name(q))
    dlq_id, _ = one(s, "AWS::SQS::Queue", QueueName=s.res.dlq_name(q))
    assert queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": [dlq_id, "Arn"]
    }
    w = _function_for_queue(s, qid)
    assert w["fn"]["Properties"]["Handler"] == "functions.live_push.handler"
    assert w["esm"]["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_gdpr_export_queue_rule_and_function(any_stage: Synth) -> None:
    s = any_stage
    (q,) = [q for q in s.res.queues if q.name == "gdpr-export"]
    _, rule = one(s, "AWS::Events::Rule", Name=s.res.rule_name(q))
    assert rule["Properties"]["EventPattern"] == {
        "source": ["cuspide"],
        "detail-type": ["gdpr.export_requested"],
    }
    qid, queue = one(s, "AWS::SQS::Queue", QueueName=s.res.queue_name(q))
    dlq_id, _ = one(s, "AWS::SQS::Queue", QueueName=s.res.dlq_name(q))
    assert queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": [dlq_id, "Arn"]
    }
    w = _function_for_queue(s, qid)
    props = w["fn"]["Properties"]
    assert props["Handler"] == "functions.gdpr_export.handler"
    assert props["Timeout"] == 900  # the ZIP of a patient with many images takes minutes
    assert props["EphemeralStorage"] == {"Size": 4096}  # room for the 2 GB cap in /tmp
    assert w["esm"]["Properties"]["BatchSize"] == 1
    assert w["esm"]["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def _manage_connections_resources(s: Synth, role_id: str) -> list[str]:
    return [
        json.dumps(st["Resource"])
        for st in policy_of_role(s, role_id)
        if "execute-api:ManageConnections" in as_list(st["Action"])
    ]


def test_live_grants_are_least_privilege(any_stage: Synth) -> None:
    s = any_stage
    api_id, _ = one(s, "AWS::ApiGatewayV2::Api", Name=s.res.live_api)
    stage = s.res.live_socket.stage
    pushers = {
        k: p
        for k, p in functions(s).items()
        if p.get("Handler") in ("functions.live_push.handler", "functions.live_push.expire")
    }
    assert len(pushers) == 2
    for fn_id, p in pushers.items():
        role = p["Role"]["Fn::GetAtt"][0]
        (res,) = _manage_connections_resources(s, role)
        assert api_id in res and f"/{stage}/*/@connections/*" in res
        acts = actions_of_role(s, role)
        assert "events:PutEvents" not in acts and not any(a.startswith("s3:") for a in acts)
        assert "sqs:SendMessage" not in acts
    # only they manage connections: not the API, not the socket, not any other worker
    for fn_id, p in functions(s).items():
        if fn_id in pushers or fn_id == "APIHandler":
            continue
        assert not _manage_connections_resources(s, p["Role"]["Fn::GetAtt"][0]), fn_id
    api_role = next(k for k, v in s.resources("AWS::IAM::Role").items() if "ApiRole" in k)
    assert "execute-api:ManageConnections" not in actions_of_role(s, api_role)
    # the socket reads/writes the table and queues live.ready on the live queue only
    _, sock = _live_socket_function(s)
    sock_role = sock["Role"]["Fn::GetAtt"][0]
    acts = actions_of_role(s, sock_role)
    assert "dynamodb:PutItem" in acts and "sqs:SendMessage" in acts
    assert "execute-api:ManageConnections" not in acts and "events:PutEvents" not in acts
    (send,) = [
        st for st in policy_of_role(s, sock_role) if "sqs:SendMessage" in as_list(st["Action"])
    ]
    assert s.res.prefix + "-live" in json.dumps(send["Resource"])
    assert s.res.prefix + "-live-dlq" not in json.dumps(send["Resource"])


def test_live_urls_reach_the_api_and_the_pushers(any_stage: Synth) -> None:
    s = any_stage
    api_id, _ = one(s, "AWS::ApiGatewayV2::Api", Name=s.res.live_api)
    for fn_id, p in functions(s).items():
        env = p["Environment"]["Variables"]
        live, manage = json.dumps(env["LIVE_URL"]), json.dumps(env["LIVE_MANAGEMENT_URL"])
        assert "wss://" in live and api_id in live and "/live" in live, fn_id
        assert "https://" in manage and api_id in manage, fn_id
    # the staff app may open it (CSP connect-src)
    policies = s.resources("AWS::CloudFront::ResponseHeadersPolicy")
    csp = [
        json.dumps(p["Properties"])
        for p in policies.values()
        if "script-src 'self'" in json.dumps(p["Properties"])
    ]
    assert csp and all("wss://" in c and api_id in c for c in csp)
    spa = _headers_policy(s, None)["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    connect = next(d for d in spa.split(";") if d.strip().startswith("connect-src"))
    assert "wss://" in connect and api_id in connect and "wss://*" not in connect


def test_upload_expiry_job(dev: Synth) -> None:
    """Hourly; reads the expiry-hour index (the global path) and checks or removes slot objects
    and records with each slot's clinic's credentials (ADR 0012): no object on its own role."""
    (sc,) = [sc for sc in dev.res.schedules if sc.name == "upload-expiry"]
    assert sc.expression == "cron(20 * * * ? *)" and sc.interval_s == 3600
    assert sc.handler == "upload_expiry:handler"
    assert set(sc.grants) == {"global", "tenant"}
    _, sched = one(dev, "AWS::Scheduler::Schedule", Name=f"{dev.res.prefix}-upload-expiry")
    fn_id = sched["Properties"]["Target"]["Arn"]["Fn::GetAtt"][0]
    assert (
        dev.json["Resources"][fn_id]["Properties"]["Handler"] == "functions.upload_expiry.handler"
    )
    role_id = dev.json["Resources"][fn_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    acts = actions_of_role(dev, role_id)
    assert not {a for a in acts if a.startswith("s3:")} and "sts:AssumeRole" in acts


def test_live_expiry_job(dev: Synth) -> None:
    (sc,) = [sc for sc in dev.res.schedules if sc.name == "live-expiry"]
    assert sc.expression == "rate(1 minute)" and sc.handler == "live_push:expire"
    assert set(sc.grants) == {"global", "tenant", "live_push"}


# -- clinic-scoped credentials (ADR 0012) ------------------------------------------------------


def _tenant_role(s: Synth) -> tuple[str, dict[str, Any]]:
    return next((k, v) for k, v in s.resources("AWS::IAM::Role").items() if "TenantDataRole" in k)


def test_tenant_data_role_is_the_bound_of_every_clinic(any_stage: Synth) -> None:
    from chalicelib.core import scoping

    s = any_stage
    role_id, role = _tenant_role(s)
    assert role["Properties"]["MaxSessionDuration"] == 3600
    sts = policy_of_role(s, role_id)
    by_sid = {st.get("Sid"): st for st in sts}
    items, indexes = by_sid["AnyClinicItems"], by_sid["AnyClinicIndexes"]
    assert set(as_list(items["Action"])) == set(scoping.TABLE_ACTIONS)
    assert items["Condition"] == {
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["C#*", *scoping.GLOBAL_KEYS]}
    }
    # indexes: clinic keys only (a global index key returns other clinics' items)
    assert as_list(indexes["Action"]) == ["dynamodb:Query"]
    assert indexes["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["C#*"]}}
    assert "index/*" in _join_text(indexes["Resource"])
    objects, archive = by_sid["AnyClinicObjects"], by_sid["AnyClinicArchive"]
    assert [_join_text(r) for r in as_list(objects["Resource"])][0].endswith("/clinics/*")
    assert _join_text(archive["Resource"]).endswith("/verifactu/*")
    # the archive is read only: the submission job alone writes it, with its own role
    assert set(as_list(archive["Action"])) == set(scoping.ARCHIVE_ACTIONS)
    assert not {a for a in scoping.ARCHIVE_ACTIONS if "Put" in a or "Delete" in a}
    # never a Scan, a listing, or anything but data and its key; the one exception is listing
    # the versions of objects under the clinics' prefix, which a GDPR erasure needs to delete
    # every version of a patient's files (ADR 1405), bounded by s3:prefix
    actions = actions_of_role(s, role_id)
    assert not {a for a in actions if "Scan" in a or "List" in a or a.endswith(":*")} - {
        "s3:ListBucketVersions"
    }
    versions = by_sid["AnyClinicVersions"]
    assert as_list(versions["Action"]) == ["s3:ListBucketVersions"]
    assert versions["Condition"] == {"StringLike": {"s3:prefix": "clinics/*"}}
    assert {a.split(":")[0] for a in actions} == {"dynamodb", "s3", "kms"}
    kms = next(st for st in sts if "kms:Decrypt" in as_list(st["Action"]))
    assert (
        set(kms["Condition"]["StringEquals"]["kms:ViaService"])
        and len(as_list(kms["Resource"])) == 1
    )


def test_functions_that_touch_data_assume_the_tenant_role(any_stage: Synth) -> None:
    s = any_stage
    role_id, _ = _tenant_role(s)
    arn = {"Fn::GetAtt": [role_id, "Arn"]}
    for fn_id, p in functions(s).items():
        assert p["Environment"]["Variables"]["TENANT_ROLE_ARN"] == arn, fn_id
    api_role = next(k for k, v in s.resources("AWS::IAM::Role").items() if "ApiRole" in k)
    assume = [st for st in policy_of_role(s, api_role) if "sts:AssumeRole" in as_list(st["Action"])]
    assert assume and all(st["Resource"] == arn for st in assume)
    # no role assumes it without a grant: only identity policies may let a principal in
    for k, v in s.resources("AWS::IAM::Role").items():
        if k == role_id:
            continue
        for st in policy_of_role(s, k):
            if "sts:AssumeRole" in as_list(st["Action"]):
                assert st["Resource"] == arn, k


def _role_of(s: Synth, name: str) -> str:
    for sc in s.res.schedules:
        if sc.name == name:
            _, sched = one(s, "AWS::Scheduler::Schedule", Name=f"{s.res.prefix}-{sc.name}")
            fn_id = sched["Properties"]["Target"]["Arn"]["Fn::GetAtt"][0]
            return s.json["Resources"][fn_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    (q,) = [q for q in s.res.queues if q.name == name]
    qid, _ = one(s, "AWS::SQS::Queue", QueueName=s.res.queue_name(q))
    return _function_for_queue(s, qid)["fn"]["Properties"]["Role"]["Fn::GetAtt"][0]


def test_no_function_role_reaches_clinic_data(any_stage: Synth) -> None:
    """No function's own role names a C#* leading key, a clinic object prefix or unconditioned
    table access: the global lookups, the global index keys and sts:AssumeRole on the
    tenant-data role (whose session policy then reaches one clinic). Every function: the API,
    the live socket, the workers, consumers and jobs (ADR 0012)."""
    from chalicelib.core import scoping

    s = any_stage
    tenant_id, _ = _tenant_role(s)
    table_id, _ = one(s, "AWS::DynamoDB::Table")
    submit_role = _role_of(s, "aeat-submit")
    global_only = {_role_of(s, "events-redrive"), _role_of(s, "ses-feedback")}
    fns = functions(s)
    assert "APIHandler" in fns and _live_socket_function(s)[0] in fns
    assert len(fns) == 2 + len(s.res.queues) + len(s.res.schedules)
    for fn_id, p in fns.items():
        role_id = p["Role"]["Fn::GetAtt"][0]
        for st in policy_of_role(s, role_id):
            text = json.dumps(st)
            actions = as_list(st["Action"])
            assert "C#" not in text and "clinics/" not in text, (fn_id, st)
            data = any(a.startswith("dynamodb:") for a in actions) and table_id in text
            if data and actions != ["dynamodb:DescribeTable"]:
                keys = st["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
                assert set(keys) <= {*scoping.GLOBAL_KEYS, *scoping.GLOBAL_INDEX_KEYS}, fn_id
                assert not any(k.startswith("C#") for k in keys), fn_id
            if actions == ["s3:GetBucketVersioning"]:  # the API's health check: the bucket
                assert fn_id == "APIHandler" and "MediaBucket" in text and "/" not in text, st
            elif any(a.startswith("s3:") for a in actions):
                # only the submission job's archive (ADR 0206), never the media bucket
                assert role_id == submit_role and "VerifactuArchiveBucket" in text, (fn_id, st)
                assert actions == ["s3:ListBucket"] or "/verifactu/*" in text, (fn_id, st)
        acts = actions_of_role(s, role_id)
        if role_id not in global_only:  # those touch global items only: no scope
            assume = [
                st for st in policy_of_role(s, role_id) if "sts:AssumeRole" in as_list(st["Action"])
            ]
            assert [st["Resource"] for st in assume] == [{"Fn::GetAtt": [tenant_id, "Arn"]}], fn_id
        else:
            assert "sts:AssumeRole" not in acts
        assert not {a for a in acts if "Scan" in a or a.endswith(":*")}, fn_id
