"""Where emailed links get the SPA's URL from, in each kind of deployment."""

from __future__ import annotations

from dataclasses import replace

import pytest

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


def test_a_deployed_stage_without_a_url_fails_loudly_instead_of_mailing_localhost():
    with pytest.raises(RuntimeError, match="APP_URL"):
        _ = BASE.app_url


def test_only_the_local_stage_defaults_to_the_local_stack():
    assert replace(BASE, stage="local").app_url == config.LOCAL_APP_URL


def test_app_url_from_the_environment_wins():
    s = replace(BASE, app_url_env="https://app.example.es/", app_url_parameter="/x/app-url")
    assert s.app_url == "https://app.example.es"
