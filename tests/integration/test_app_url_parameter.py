"""The deployed API, which cannot reference CloudFront, reads the SPA's URL from the SSM
parameter the stack writes (ADR 0904); here against the moto server, as in the stack."""

from __future__ import annotations

from dataclasses import replace

import boto3

from chalicelib.core import config


def test_the_deployed_api_reads_the_url_the_stack_wrote():
    settings = config.settings()
    ssm = boto3.client("ssm", region_name=settings.region)
    name = "/cuspide-test/app-url-check"
    ssm.put_parameter(Name=name, Value="https://d1.cloudfront.net/", Type="String", Overwrite=True)
    config._parameter.cache_clear()
    deployed = replace(settings, stage="dev", app_url_env=None, app_url_parameter=name)
    assert deployed.app_url == "https://d1.cloudfront.net"
    # read once per process: a change needs a new cold start, not a call per emailed link
    ssm.put_parameter(Name=name, Value="https://other.example", Type="String", Overwrite=True)
    assert deployed.app_url == "https://d1.cloudfront.net"
    config._parameter.cache_clear()
