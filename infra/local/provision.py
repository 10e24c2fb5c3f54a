"""Create every resource of ``infra/resources.py`` through the real AWS APIs (on moto).

Idempotent: running it twice leaves the same resources. Used by ``make run``, the test suite
and the end-to-end tests.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.exceptions import ClientError

from infra.resources import Resources

ACCOUNT = "123456789012"
LOCAL_ORIGINS = ("http://127.0.0.1:*", "http://localhost:*")
"""CORS origins of the local media bucket: the SPA served on loopback, any port."""


def env_for(res: Resources, endpoint: str, region: str = "eu-south-2") -> dict[str, str]:
    """The environment the API and the functions need, as the CDK stack sets it."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",  # noqa: S105 - moto's dummy credentials
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "CUSPIDE_STAGE": res.stage,
        "TABLE_NAME": res.table_name,
        "MEDIA_BUCKET": res.media_bucket,
        "ARCHIVE_BUCKET": res.archive_bucket,
        "EVENT_BUS_NAME": res.event_bus,
        "KMS_KEY_ALIAS": res.kms_alias,
        "SIGNING_SECRET_NAME": res.signing_secret,
        "MAIL_SENDER": res.mail_sender,
        # The tenant-data role clinic-scoped credentials are assumed from (ADR 0012); moto's
        # STS needs no such role to exist, and infra/local/moto_scoping.py enforces the policy.
        "TENANT_ROLE_ARN": f"arn:aws:iam::123456789012:role/{res.prefix}-tenant-data",
        "QUEUE_NAMES": ",".join(res.queue_name(q) for q in res.queues),
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_IDEMPOTENCY_DISABLED": "false",
    }


def _client(service: str, endpoint: str, region: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106
    )


def provision(
    res: Resources, endpoint: str, region: str = "eu-south-2", *, secret_value: str
) -> None:
    c = lambda s: _client(s, endpoint, region)  # noqa: E731
    _table(c("dynamodb"), res)
    _kms(c("kms"), res)  # before the media bucket, whose default encryption names it
    _bucket(c("s3"), res, region)
    _archive_bucket(c("s3"), res, region)
    _bus_queues_rules(c("events"), c("sqs"), res)
    _secret(c("secretsmanager"), res, secret_value)
    c("ses").verify_email_identity(EmailAddress=res.mail_sender)


def reset_table(res: Resources, endpoint: str, region: str = "eu-south-2") -> None:
    """Drop the table and create it empty again (tests start each module from a clean table)."""
    ddb = _client("dynamodb", endpoint, region)
    try:
        ddb.delete_table(TableName=res.table_name)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
    _table(ddb, res)


def _table(ddb: Any, res: Resources) -> None:
    t = res.table
    attrs = {t.hash_key, t.range_key}
    for ix in t.indexes:
        attrs |= {ix.hash_key, ix.range_key}
    try:
        ddb.create_table(
            TableName=res.table_name,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": a, "AttributeType": "S"} for a in sorted(attrs)
            ],
            KeySchema=[
                {"AttributeName": t.hash_key, "KeyType": "HASH"},
                {"AttributeName": t.range_key, "KeyType": "RANGE"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": ix.name,
                    "KeySchema": [
                        {"AttributeName": ix.hash_key, "KeyType": "HASH"},
                        {"AttributeName": ix.range_key, "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
                for ix in t.indexes
            ],
        )
        ddb.update_time_to_live(
            TableName=res.table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": t.ttl_attribute},
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceInUseException":
            raise
        _missing_indexes(ddb, res)


def _missing_indexes(ddb: Any, res: Resources) -> None:
    """A table persisted (STATE_DIR) before an index was declared gets it, as a deployment
    would (e.g. GSI4, ADR 0015): one index per update, like DynamoDB allows."""
    t = res.table
    have = {
        ix["IndexName"]
        for ix in ddb.describe_table(TableName=res.table_name)["Table"].get(
            "GlobalSecondaryIndexes", []
        )
    }
    for ix in t.indexes:
        if ix.name in have:
            continue
        ddb.update_table(
            TableName=res.table_name,
            AttributeDefinitions=[
                {"AttributeName": a, "AttributeType": "S"} for a in (ix.hash_key, ix.range_key)
            ],
            GlobalSecondaryIndexUpdates=[
                {
                    "Create": {
                        "IndexName": ix.name,
                        "KeySchema": [
                            {"AttributeName": ix.hash_key, "KeyType": "HASH"},
                            {"AttributeName": ix.range_key, "KeyType": "RANGE"},
                        ],
                        "Projection": {"ProjectionType": "ALL"},
                    }
                }
            ],
        )


def _bucket(s3: Any, res: Resources, region: str) -> None:
    try:
        s3.create_bucket(
            Bucket=res.media_bucket,
            CreateBucketConfiguration={"LocationConstraint": region},
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
    # The settings the CDK stack declares (infra/resources.py MediaBucket), so local and
    # deployed do not drift: versioning, default encryption with the data key, public access
    # block, CORS (loopback origins instead of the SPA's URL) and lifecycle rules (stored by
    # moto, not acted on).
    spec = res.media
    if spec.versioned:
        s3.put_bucket_versioning(
            Bucket=res.media_bucket, VersioningConfiguration={"Status": "Enabled"}
        )
    s3.put_bucket_encryption(
        Bucket=res.media_bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": spec.encryption,
                        "KMSMasterKeyID": res.kms_alias,
                    },
                    "BucketKeyEnabled": spec.bucket_key,
                }
            ]
        },
    )
    block = spec.block_public_access
    s3.put_public_access_block(
        Bucket=res.media_bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": block,
            "IgnorePublicAcls": block,
            "BlockPublicPolicy": block,
            "RestrictPublicBuckets": block,
        },
    )
    s3.put_bucket_cors(
        Bucket=res.media_bucket,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedMethods": list(spec.cors_methods),
                    "AllowedOrigins": list(LOCAL_ORIGINS),
                    "AllowedHeaders": list(spec.cors_headers),
                    "ExposeHeaders": list(spec.cors_exposed),
                    "MaxAgeSeconds": spec.cors_max_age_s,
                }
            ]
        },
    )
    s3.put_bucket_lifecycle_configuration(
        Bucket=res.media_bucket,
        LifecycleConfiguration={"Rules": [r.s3() for r in spec.lifecycle]},
    )
    s3.put_bucket_notification_configuration(
        Bucket=res.media_bucket,
        NotificationConfiguration={"EventBridgeConfiguration": {}},
    )


def _archive_bucket(s3: Any, res: Resources, region: str) -> None:
    """The VERI*FACTU WORM archive: Object Lock (which turns versioning on) with the stage's
    default retention, as the CDK stack declares it (ADR 0206). moto keeps it in memory only:
    the local stack's snapshots and journal keep the media bucket, not this one."""
    try:
        s3.create_bucket(
            Bucket=res.archive_bucket,
            CreateBucketConfiguration={"LocationConstraint": region},
            ObjectLockEnabledForBucket=True,
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
    lock = res.archive_lock
    s3.put_object_lock_configuration(
        Bucket=res.archive_bucket,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": lock.mode, "Days": lock.days}},
        },
    )
    s3.put_bucket_encryption(
        Bucket=res.archive_bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3.put_public_access_block(
        Bucket=res.archive_bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )


def _bus_queues_rules(events: Any, sqs: Any, res: Resources) -> None:
    try:
        events.create_event_bus(Name=res.event_bus)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceAlreadyExistsException":
            raise
    for q in res.queues:
        dlq_url = sqs.create_queue(
            QueueName=res.dlq_name(q), Attributes={"MessageRetentionPeriod": "1209600"}
        )["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        url = sqs.create_queue(
            QueueName=res.queue_name(q),
            Attributes={
                "VisibilityTimeout": str(q.visibility_timeout_s),
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": q.max_receive_count}
                ),
            },
        )["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        bus = "default" if q.on_default_bus else res.event_bus
        events.put_rule(
            Name=res.rule_name(q),
            EventBusName=bus,
            EventPattern=json.dumps(q.event_pattern),
            State="ENABLED",
            Description=q.description,
        )
        events.put_targets(
            Rule=res.rule_name(q),
            EventBusName=bus,
            Targets=[{"Id": "queue", "Arn": arn}],
        )


def _kms(kms: Any, res: Resources) -> None:
    aliases = {a["AliasName"] for a in kms.list_aliases()["Aliases"]}
    if res.kms_alias in aliases:
        return
    key_id = kms.create_key(Description=f"{res.prefix} data keys")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=res.kms_alias, TargetKeyId=key_id)


def _secret(sm: Any, res: Resources, value: str) -> None:
    try:
        sm.create_secret(Name=res.signing_secret, SecretString=value)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceExistsException":
            raise
