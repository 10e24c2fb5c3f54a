"""The upload state machine against the fake API: order, persistence, retries and backoff
(Retry-After), permanent failures, duplicates, and a client killed at every step."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from bridge_fakes import FakeApi, dicom_bytes, jpeg_bytes, png_bytes, write

from cuspide_bridge import files
from cuspide_bridge.api import Client, parse_retry_after
from cuspide_bridge.engine import BLOCKING_ATTEMPTS, Crash, Engine, Settings, backoff
from cuspide_bridge.store import Store


class Clock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


def make(api: FakeApi, tmp_path: Path, clock: Clock | None = None, **kw) -> Engine:
    clock = clock or Clock()
    store = Store(tmp_path / "state" / "queue.sqlite3", clock=clock)
    client = Client(api.url + "/api/v1", api.key)
    settings = Settings(defaults={"kind": "xray", "xray_type": "periapical"})
    return Engine(
        store, client, settings, tmp_path / "spool", clock=clock, rnd=random.Random(7), **kw
    )


def queue(engine: Engine, path: Path, **kw) -> int:
    d = files.digest(path)
    st = path.stat()
    ctype = files.content_type(path, d.head)
    hints = files.dicom_hints(path) if ctype == "application/dicom" else None
    return engine.store.enqueue(
        source=path,
        filename=path.name,
        size=d.size,
        mtime_ns=st.st_mtime_ns,
        sha256=d.sha256,
        content_type=ctype,
        dicom=hints,
        acquired_at=files.acquired_at(ctype, hints, st.st_mtime),
        **kw,
    )


def drain(engine: Engine, clock: Clock, rounds: int = 50) -> None:
    """Work until nothing waits, jumping the fake clock to each next due time."""
    for _ in range(rounds):
        due = engine.work()
        if due is None:
            return
        clock.t = max(clock.t, due)
    raise AssertionError("the queue never drained")


def test_uploads_in_order_and_follows_each_capture_to_its_end(api, tmp_path):
    clock = Clock()
    e = make(api, tmp_path, clock)
    paths = [
        write(tmp_path / "in" / "a.jpg", jpeg_bytes(1)),
        write(tmp_path / "in" / "b.png", png_bytes(2)),
        write(tmp_path / "in" / "c.dcm", dicom_bytes("1001")),
        write(tmp_path / "in" / "d.jpg", b"\xff\xd8\xff garbage, not a JPEG"),
    ]
    ids = [queue(e, p) for p in paths]
    drain(e, clock)
    items = [e.store.get(i) for i in ids]
    assert [it.state for it in items] == ["done"] * 4
    assert [it.result for it in items] == ["inbox", "inbox", "ready", "failed"]
    assert items[2].matched_patient_id == "pat-1001" and items[2].match_by == "dicom"
    assert items[3].reason == "not a readable image"
    assert api.upload_order() == [it.sha256 for it in items]
    body = next(c for c in api.captures.values() if c["sha256"] == items[2].sha256)["body"]
    assert body["kind"] == "dicom" and body["xray_type"] == "periapical"
    assert body["dicom"]["patient_id"] == "1001" and body["dicom"]["birth_date"] == "1980-02-15"
    assert body["acquired_at"] == "2025-03-10" and body["content_type"] == "application/dicom"
    png = next(c for c in api.captures.values() if c["sha256"] == items[1].sha256)["body"]
    assert png["kind"] == "xray" and png["content_type"] == "image/png"
    assert e.store.depth() == 0 and e.store.meta("last_upload")["image_id"] == items[3].image_id


def test_the_queue_survives_a_restart_in_order(api, tmp_path):
    clock = Clock()
    api.fail_next("/api/v1/bridge/device/captures", 503, times=1)
    e = make(api, tmp_path, clock)
    ids = [queue(e, write(tmp_path / f"{n}.jpg", jpeg_bytes(n))) for n in range(3)]
    e.work()
    assert e.store.depth() == 3 and api.uploads() == []  # the API was down
    e.store.close()

    again = make(api, tmp_path, clock)  # a new process on the same state
    drain(again, clock)
    got = [again.store.get(i) for i in ids]
    assert api.upload_order() == [it.sha256 for it in got]
    assert all(it.state == "done" for it in got)


def test_retry_after_is_honoured_and_backoff_grows_with_jitter(api, tmp_path):
    clock = Clock()
    e = make(api, tmp_path, clock)
    item_id = queue(e, write(tmp_path / "a.jpg", jpeg_bytes(1)))
    api.fail_next("/api/v1/bridge/device/captures", 429, **{"Retry-After": "30"})
    e.work()
    it = e.store.get(item_id)
    assert it.state == "queued" and it.attempts == 1
    assert 30 <= it.next_attempt_at - clock.t <= 31
    clock.t += 29
    e.work()
    assert e.store.get(item_id).attempts == 1  # not before the server said
    clock.t += 2
    api.fail_next("/api/v1/bridge/device/captures", 502)
    e.work()
    it = e.store.get(item_id)
    assert it.attempts == 2 and "scripted" in it.error
    drain(e, clock)
    assert e.store.get(item_id).result == "inbox"

    rnd = random.Random(1)
    delays = [backoff(n, None, rnd) for n in range(1, 12)]
    assert all(1 <= d <= 2 for d in delays[:1]) and all(d <= 300 for d in delays)
    assert delays[5] > delays[1] and max(delays) > 150
    assert len({round(backoff(4, None, random.Random(s)), 3) for s in range(5)}) > 1  # jitter
    assert parse_retry_after("120") == 120
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0
    assert parse_retry_after("soon") is None


def test_network_errors_retry_and_order_holds_until_the_api_is_back(tmp_path):
    clock = Clock()
    down = FakeApi()
    url, key = down.url, down.key
    down.close()  # nothing listens: connection refused
    store = Store(tmp_path / "q.sqlite3", clock=clock)
    e = Engine(
        store,
        Client(url + "/api/v1", key, timeout=2),
        Settings(),
        tmp_path / "sp",
        clock=clock,
        rnd=random.Random(1),
    )
    ids = [queue(e, write(tmp_path / f"{n}.jpg", jpeg_bytes(n))) for n in range(2)]
    e.work()
    first, second = (store.get(i) for i in ids)
    assert (first.state, first.attempts) == ("queued", 1) and second.attempts == 0  # held
    assert "ConnectError" in first.error and store.meta("last_error")


def test_a_4xx_fails_that_capture_for_good_with_the_servers_message(api, tmp_path):
    clock = Clock()
    e = make(api, tmp_path, clock)
    bad = queue(e, write(tmp_path / "a.jpg", jpeg_bytes(1)), patient_number="404")
    good = queue(e, write(tmp_path / "b.jpg", jpeg_bytes(2)))
    drain(e, clock)
    assert e.store.get(bad).state == "failed"
    assert e.store.get(bad).error == "No patient with that number"
    assert e.store.get(good).state == "done"
    assert e.store.meta("last_error")["error"] == "No patient with that number"


def test_a_rejected_key_keeps_everything_queued(api, tmp_path):
    clock = Clock()
    e = make(api, tmp_path, clock)
    item_id = queue(e, write(tmp_path / "a.jpg", jpeg_bytes(1)))
    api.key = "cbk_rotatedaway1.x"  # the server no longer accepts ours
    e.work()
    it = e.store.get(item_id)
    assert it.state == "queued" and it.next_attempt_at - clock.t >= 60
    assert "Invalid device key" in it.error


def test_an_item_failing_again_and_again_stops_holding_the_queue(api, tmp_path):
    clock = Clock()
    e = make(api, tmp_path, clock)
    stuck = queue(e, write(tmp_path / "a.jpg", jpeg_bytes(1)))
    e.store.update(stuck, attempts=BLOCKING_ATTEMPTS, next_attempt_at=clock.t + 3600)
    other = queue(e, write(tmp_path / "b.jpg", jpeg_bytes(2)))
    e.work()
    assert e.store.get(other).state in ("reported", "done")
    assert e.store.get(stuck).state == "queued"


def test_duplicates_are_never_uploaded_twice(api, tmp_path):
    clock = Clock()
    e = make(api, tmp_path, clock)
    data = jpeg_bytes(5)
    first = queue(e, write(tmp_path / "a.jpg", data))
    copy = queue(e, write(tmp_path / "copy of a.jpg", data))  # same bytes, another name
    drain(e, clock)
    assert e.store.get(copy).result == "duplicate"
    assert e.store.get(copy).image_id == e.store.get(first).image_id

    # the server already has it (another PC sent it, or this one before a reinstall)
    other = make(api, tmp_path / "elsewhere", Clock())
    again = queue(other, write(tmp_path / "elsewhere" / "x.jpg", data))
    drain(other, other.clock)
    assert other.store.get(again).result == "duplicate"
    assert len(api.uploads()) == 1

    # the same file seen twice (a rescan, a second event) is queued once
    p = tmp_path / "a.jpg"
    assert queue(e, p) is None
    # saved again later (on purpose, maybe after staff discarded it): the server decides
    import os

    os.utime(p, (clock.t, clock.t))
    resaved = queue(e, p)
    assert resaved is not None
    drain(e, clock)
    assert e.store.get(resaved).result == "duplicate" and len(api.uploads()) == 1


@pytest.mark.parametrize("where", ["requested", "uploading", "uploaded", "reported"])
def test_killed_at_any_step_restart_loses_nothing_and_uploads_nothing_twice(api, tmp_path, where):
    clock = Clock()
    crashed = []

    def crash_once(at, item):
        if at == where and item.filename == "b.jpg" and not crashed:
            crashed.append(at)
            raise Crash(at)

    e = make(api, tmp_path, clock, checkpoint=crash_once)
    names = ["a.jpg", "b.jpg", "c.png"]
    datas = [jpeg_bytes(1), jpeg_bytes(2), png_bytes(3)]
    ids = [queue(e, write(tmp_path / n, d)) for n, d in zip(names, datas, strict=True)]
    with pytest.raises(Crash):
        drain(e, clock)
    assert crashed == [where]
    e.store.close()  # the process is gone; what it committed is all there is

    again = make(api, tmp_path, clock)
    drain(again, clock)
    items = [again.store.get(i) for i in ids]
    assert all(it.state == "done" for it in items), [(it.state, it.result) for it in items]
    assert all(it.result == "inbox" for it in items), [it.result for it in items]
    # one capture per file on the server, each file's bytes stored exactly once
    assert sorted(c["sha256"] for c in api.captures.values()) == sorted(it.sha256 for it in items)
    assert sorted(api.uploads()) == sorted(it.sha256 for it in items)


def test_a_file_that_changed_after_it_was_queued_is_not_uploaded_stale(api, tmp_path):
    clock = Clock()
    e = make(api, tmp_path, clock)
    p = write(tmp_path / "a.jpg", jpeg_bytes(1))
    item_id = queue(e, p)
    write(p, jpeg_bytes(99, size=3000))
    drain(e, clock)
    it = e.store.get(item_id)
    assert it.state == "failed" and "changed" in it.error
    assert api.uploads() == []


def test_oversize_files_fail_locally(api, tmp_path):
    clock = Clock()
    e = make(api, tmp_path, clock)
    e.settings.max_bytes = {"xray": 100}
    item_id = queue(e, write(tmp_path / "a.jpg", jpeg_bytes(1)))
    drain(e, clock)
    assert e.store.get(item_id).state == "failed" and api.captures == {}
