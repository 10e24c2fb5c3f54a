"""Outbound mail names the stage's SES configuration set when one is configured (so bounces
and complaints reach this stage's feedback worker), and nothing when it is not (local)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.core import config, mail


class FakeSes:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []

    def send_email(self, **kw):
        self.calls.append(("send_email", kw))
        return {"MessageId": "m-1"}

    def send_raw_email(self, **kw):
        self.calls.append(("send_raw_email", kw))
        return {"MessageId": "m-2"}


@pytest.fixture
def ses(monkeypatch):
    fake = FakeSes()
    monkeypatch.setattr(mail.aws, "client", lambda service: fake)
    # A unit test: no table behind it (the suppression list has its own integration tests).
    monkeypatch.setattr(mail, "is_undeliverable", lambda email: False)
    return fake


@pytest.mark.parametrize("configured", [None, "cuspide-dev"])
def test_every_send_names_the_configuration_set(ses, monkeypatch, configured):
    real = config.settings()
    monkeypatch.setattr(mail, "settings", lambda: replace(real, mail_configuration_set=configured))
    mail.send(to="a@example.com", subject="s", text="t", html="<p>h</p>")
    mail.send_raw_email(to="a@example.com", raw=b"Subject: s\r\n\r\nbody")
    assert [name for name, _ in ses.calls] == ["send_email", "send_raw_email"]
    for _, kw in ses.calls:
        assert kw.get("ConfigurationSetName") == configured
        assert kw["Source"] == real.mail_sender
