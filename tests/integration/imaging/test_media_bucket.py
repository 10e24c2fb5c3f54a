"""The local media bucket carries the settings the CDK stack declares (issue 20): both build
from ``infra.resources.MediaBucket`` (tests/infra/test_stack.py checks the stack's side), and
this reads them back from the running (moto) bucket, so local and deployed cannot drift."""

from __future__ import annotations

from chalicelib.core import aws
from infra.local.provision import LOCAL_ORIGINS
from tests.conftest import RESOURCES


def test_the_local_media_bucket_has_the_declared_settings():
    s3, bucket, spec = aws.client("s3"), RESOURCES.media_bucket, RESOURCES.media
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": RESOURCES.kms_alias,
    }
    assert rule["BucketKeyEnabled"] is True
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    (cors,) = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert sorted(cors["AllowedMethods"]) == sorted(spec.cors_methods)
    assert cors["AllowedHeaders"] == list(spec.cors_headers)
    assert cors["ExposeHeaders"] == list(spec.cors_exposed)
    assert cors["MaxAgeSeconds"] == spec.cors_max_age_s
    assert cors["AllowedOrigins"] == list(LOCAL_ORIGINS)
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert {r["ID"]: r for r in rules} == {r.id: r.s3() for r in spec.lifecycle}
    # the originals' rule moves only objects with the tag the worker sets
    (originals,) = [r for r in rules if "Transitions" in r]
    tag = originals["Filter"]["Tag"]
    assert (tag["Key"], tag["Value"]) == ("cuspide-class", "original")
