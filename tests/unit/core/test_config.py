"""Where emailed links get the SPA's URL from, in each kind of deployment."""

from __future__ import annotations

from dataclasses import replace

import boto3
import pytest
from moto import mock_aws

from chalicelib.core import config

BASE = config.Settings(
    stage="dev",
    region="eu-west-3",
    table_name="t",
    media_bucket="b",
    event_bus="e",
    kms_alias="alias/k",
    signing_secret="s",
    mail_sender="no-reply@example.com",
)


@pytest.fixture
def ssm(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)  # moto's in-process mock, not the server
    config._parameter.cache_clear()
    with mock_aws():
        yield boto3.client("ssm", region_name="eu-west-3")
    config._parameter.cache_clear()


def test_app_url_from_the_environment_wins():
    s = replace(BASE, app_url_env="https://app.example.es/", app_url_parameter="/x/app-url")
    assert s.app_url == "https://app.example.es"


def test_the_deployed_api_reads_the_url_the_stack_wrote(ssm):
    ssm.put_parameter(Name="/cuspide-dev/app-url", Value="https://d1.cloudfront.net", Type="String")
    s = replace(BASE, app_url_parameter="/cuspide-dev/app-url")
    assert s.app_url == "https://d1.cloudfront.net"
    # read once per process: a later change needs a new cold start, not a call per link
    ssm.put_parameter(
        Name="/cuspide-dev/app-url", Value="https://other.example", Type="String", Overwrite=True
    )
    assert s.app_url == "https://d1.cloudfront.net"


def test_a_deployed_stage_without_a_url_fails_loudly_instead_of_mailing_localhost():
    with pytest.raises(RuntimeError, match="APP_URL"):
        _ = BASE.app_url


def test_only_the_local_stage_defaults_to_the_local_stack():
    assert replace(BASE, stage="local").app_url == config.LOCAL_APP_URL
