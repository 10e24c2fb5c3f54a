"""Pure parts of the submission job: backoff, what goes in one submission, the endpoint."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.verifactu import submission, transport
from chalicelib.verifactu.models import RecordItem


def test_backoff_doubles_from_60_seconds_to_just_under_one_hour():
    # Orden art. 16.4: at least one attempt an hour, with the job running every minute
    waits = [submission.backoff(n).total_seconds() for n in range(1, 9)]
    assert waits == [60, 120, 240, 480, 960, 1920, 3540, 3540]
    assert submission.backoff(0) == timedelta(seconds=60)


def _item(n: int, *, environment: str = "test", num: str | None = None, kind: str = "alta"):
    return RecordItem(
        "C#x",
        f"VFREC#B12345674#{n:010d}",
        seq=n,
        kind=kind,
        num_serie=num or f"F-2026-{n:06d}",
        fecha_expedicion="01-12-2026",
        environment=environment,
    )


def test_a_submission_carries_at_most_1000_records_in_chain_order():
    items = [_item(n) for n in range(1, 1203)]
    batch = submission._batch(items)
    assert [int(i.seq) for i in batch] == list(range(1, 1001))


def test_a_submission_stops_where_the_environment_changes():
    items = [_item(1), _item(2), _item(3, environment="production"), _item(4)]
    assert [int(i.seq) for i in submission._batch(items)] == [1, 2]
    assert [int(i.seq) for i in submission._batch(items[2:])] == [3]


def test_a_record_and_its_correction_never_go_in_the_same_submission():
    items = [_item(1), _item(2, num="F-2026-000001"), _item(3)]
    assert [int(i.seq) for i in submission._batch(items)] == [1]
    # an alta and the anulación of the same invoice have different keys: they may go together
    items = [_item(1), _item(2, num="F-2026-000001", kind="anulacion")]
    assert len(submission._batch(items)) == 2


def test_a_submission_stops_where_the_incident_flag_changes():
    # Cabecera Incidencia speaks for every record of a submission (ADR 0207)
    flagged = [_item(1), _item(2), _item(3), _item(4)]
    flagged[0].incidencia = flagged[1].incidencia = True
    assert [int(i.seq) for i in submission._batch(flagged)] == [1, 2]
    assert [int(i.seq) for i in submission._batch(flagged[2:])] == [3, 4]


def test_the_endpoint_override_keeps_the_wsdl_path_and_prod_ignores_it(monkeypatch):
    from chalicelib.core import config

    path = "/wlpl/TIKE-CONT/ws/SistemaFacturacion/VerifactuSOAP"
    monkeypatch.delenv("AEAT_ENDPOINT_OVERRIDE", raising=False)
    assert transport.endpoint("test") == "https://prewww1.aeat.es" + path
    assert transport.endpoint("production") == "https://www1.agenciatributaria.gob.es" + path
    monkeypatch.setenv("AEAT_ENDPOINT_OVERRIDE", "https://127.0.0.1:8443/")
    assert transport.endpoint("production") == "https://127.0.0.1:8443" + path
    real = config.settings()
    monkeypatch.setattr(
        transport, "settings", lambda: real.__class__(**{**real.__dict__, "stage": "prod"})
    )
    assert transport.endpoint("production") == "https://www1.agenciatributaria.gob.es" + path
    with pytest.raises(KeyError):
        transport.endpoint("staging")
