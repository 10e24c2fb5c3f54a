"""Moving queued captures through the device API, one committed step at a time.

Order: the queue is uploaded strictly in order; an item waiting for its retry holds the ones
behind it (the API is down for all of them), unless it has failed many times already - then it
stops blocking the rest and keeps being retried on its own schedule.

Retries: network errors, 5xx and 429 back off exponentially with jitter (``Retry-After`` when
the server sends it); a 401 (key revoked or rotated out) waits, keeps everything queued and
says so in the status; any other 4xx fails that capture for good, with the server's message.
"""

from __future__ import annotations

import contextlib
import logging
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cuspide_bridge import files, zips
from cuspide_bridge.api import ApiError, Client, KeyRejected, Permanent, Transient, UploadForm
from cuspide_bridge.store import Item, Store

log = logging.getLogger("cuspide_bridge")

BACKOFF_BASE = 2.0
BACKOFF_CAP = 300.0
KEY_REJECTED_DELAY = 60.0
BLOCKING_ATTEMPTS = 8  # after this many failures an item stops holding the queue
POLL_DELAYS = (2, 3, 5, 10, 20, 30, 60, 60)  # following a capture until ready/failed
FORM_MARGIN = 30.0  # a presigned form this close to expiring is renewed first
FINAL = ("ready", "failed")


@dataclass
class Settings:
    """Local config merged with the server's (heartbeat ``config``)."""

    folders: list[str] = field(default_factory=list)
    patterns: list[str] = field(default_factory=list)
    stable_seconds: float = 2.0
    defaults: dict[str, Any] = field(default_factory=dict)
    max_bytes: dict[str, int] = field(default_factory=dict)


def backoff(
    attempts: int,
    retry_after: float | None = None,
    rnd: random.Random | None = None,
    base: float = BACKOFF_BASE,
    cap: float = BACKOFF_CAP,
) -> float:
    """Seconds to wait before attempt ``attempts + 1``: the server's ``Retry-After`` when given
    (plus up to 10% so a clinic's devices don't come back at the same instant), else
    exponential with "equal jitter" (half fixed, half random), capped."""
    r = rnd or random
    if retry_after is not None:
        return retry_after + r.uniform(0, min(1.0, 0.1 * retry_after))
    d = min(cap, base * 2 ** max(0, attempts - 1))
    return d / 2 + r.uniform(0, d / 2)


def short(sha: str) -> str:
    return sha[:12]


class Crash(BaseException):  # noqa: N818 - the name reads as what it simulates
    """Raised by a test's checkpoint hook to simulate the process dying at that point."""


class Engine:
    def __init__(
        self,
        store: Store,
        client: Client,
        settings: Settings,
        spool_dir: Path,
        clock: Callable[[], float] = time.time,
        rnd: random.Random | None = None,
        checkpoint: Callable[[str, Item], None] | None = None,
    ):
        self.store = store
        self.client = client
        self.settings = settings
        self.spool_dir = spool_dir
        self.clock = clock
        self.rnd = rnd or random.Random()  # noqa: S311 - jitter, not a secret
        self.checkpoint = checkpoint or (lambda _where, _item: None)
        self._fresh: set[int] = set()  # items whose upload form was issued to this process

    # --- the queue ------------------------------------------------------------------------

    def next_due(self) -> tuple[Item | None, float | None]:
        """The item to work on now, or (None, when the next one is due)."""
        now = self.clock()
        wake: float | None = None
        for item in self.store.active():
            if item.next_attempt_at <= now:
                return item, None
            wake = item.next_attempt_at if wake is None else min(wake, item.next_attempt_at)
            if item.attempts < BLOCKING_ATTEMPTS:
                return None, wake
        return None, wake

    def work(self, should_stop: Callable[[], bool] = lambda: False) -> float | None:
        """Advance every due item (in order) and every due status poll; return when something
        is next due (None: nothing waits)."""
        while not should_stop():
            item, wake = self.next_due()
            if item is None:
                break
            self.advance(item)
        for item in self.store.to_poll(self.clock()):
            if should_stop():
                break
            self.poll(item)
        _, wake = self.next_due()
        polls = self.store.next_poll_at()
        return min((w for w in (wake, polls) if w is not None), default=None)

    def advance(self, item: Item) -> None:
        """One item as far as it goes now; errors recorded on it."""
        try:
            if item.state == "queued" and item.content_type == "application/zip":
                self._expand(item)
                return
            if item.state == "queued":
                item = self._request(item)
            if item.state == "requested":
                item = self._upload(item)
            if item.state == "sent":
                self._report(item)
        except Transient as exc:
            self._retry(item, exc, exc.retry_after)
        except KeyRejected as exc:
            self._retry(item, exc, max(KEY_REJECTED_DELAY, backoff(item.attempts + 1)))
        except Permanent as exc:
            self._fail(item, exc.message, exc)

    # --- the steps ------------------------------------------------------------------------

    def _request(self, item: Item) -> Item:
        earlier = self.store.same_content(item)
        if earlier is not None:
            # the same bytes were sent already from this PC (another name, a copy)
            self._finish(
                item,
                "duplicate",
                image_id=earlier.image_id,
                reason=None,
                inbox=earlier.inbox,
                patient_id=earlier.matched_patient_id,
                match_by=earlier.match_by,
            )
            log.info("capture %s duplicate of %s (local)", short(item.sha256), earlier.image_id)
            return self.store.get(item.id)  # type: ignore[return-value]
        if item.source and not item.spool:
            problem = self._changed(item)
            if problem:
                raise Permanent(problem)
        limit = self.settings.max_bytes.get(self._kind(item))
        if limit and item.size > limit:
            raise Permanent(f"the file is larger than the server accepts ({limit} bytes)")
        data = self.client.request_capture(self._body(item))
        match = data.get("match") or {}
        common = {
            "image_id": data["image_id"],
            "matched_patient_id": match.get("patient_id"),
            "match_by": match.get("by"),
        }
        if data.get("duplicate") and data["image_id"] == item.image_id:
            # our own capture, asked for again after a restart: the bytes did reach the storage
            # before the process stopped - go on with reporting, never upload twice
            self.store.update(item.id, state="sent", upload=None, error=None, **common)
            return self.store.get(item.id)  # type: ignore[return-value]
        if data.get("duplicate"):
            self._finish(
                item,
                "duplicate",
                image_id=data["image_id"],
                reason=data.get("status"),
                inbox=None,
                patient_id=match.get("patient_id"),
                match_by=match.get("by"),
            )
            log.info("capture %s duplicate of %s", short(item.sha256), data["image_id"])
            return self.store.get(item.id)  # type: ignore[return-value]
        upload = data.get("upload")
        if not upload:
            raise Transient("capture request: no upload form in the answer")
        self.store.update(item.id, state="requested", upload=upload, error=None, **common)
        self._fresh.add(item.id)
        log.info("capture %s requested as %s", short(item.sha256), data["image_id"])
        item = self.store.get(item.id)  # type: ignore[assignment]
        self.checkpoint("requested", item)
        return item

    def _upload(self, item: Item) -> Item:
        form = item.upload or {}
        stale = item.id not in self._fresh or _expired(
            form.get("expires_at"), self.clock() + FORM_MARGIN
        )
        if not form or stale:
            # a form from before a restart (the bytes may have reached the storage already) or
            # an old one: ask again - the server answers a capture still pending with a fresh
            # form for the same image_id, one already received as a duplicate of itself
            self.store.update(item.id, state="queued", upload=None)
            return self._request(self.store.get(item.id))  # type: ignore[arg-type]
        path = Path(item.source)
        problem = self._changed(item) if not item.spool else None
        if problem:
            self._report_failure(item, problem)
            raise Permanent(problem)
        self.checkpoint("uploading", item)
        try:
            self.client.upload(
                UploadForm(form["url"], form.get("fields") or {}, form.get("expires_at")),
                path,
                self._upload_type(item),
            )
        except FileNotFoundError:
            self._report_failure(item, "the file disappeared before it was uploaded")
            raise Permanent("the file disappeared before it was uploaded") from None
        except Permanent as exc:
            # most often an expired form (403): one fresh form, then give up
            if item.attempts < 2:
                self.store.update(item.id, state="queued", upload=None)
                raise Transient(exc.message, exc.status, exc.code) from None
            self._report_failure(item, f"the storage refused the upload ({exc.status})")
            raise
        self.checkpoint("uploaded", item)
        self.store.update(item.id, state="sent", uploaded_at=self.clock())
        return self.store.get(item.id)  # type: ignore[return-value]

    def _report(self, item: Item) -> None:
        data = self.client.report_uploaded(item.image_id, ok=True)  # type: ignore[arg-type]
        now = self.clock()
        self.store.update(
            item.id,
            state="reported",
            result=data.get("status"),
            polls=0,
            attempts=0,
            error=None,
            next_attempt_at=now + POLL_DELAYS[0],
        )
        self.store.set_meta(
            "last_upload",
            {"at": _iso(now), "image_id": item.image_id, "sha256": short(item.sha256)},
        )
        self._drop_spool(item)
        log.info("capture %s uploaded as %s", short(item.sha256), item.image_id)
        self.checkpoint("reported", item)

    def poll(self, item: Item) -> None:
        """Follow an uploaded capture until ready or failed (a few times, then leave it)."""
        try:
            data = self.client.capture_status(item.image_id)  # type: ignore[arg-type]
        except ApiError as exc:
            data = {"status": item.result}
            log.info("status of %s not read: %s", item.image_id, exc.short())
        status = data.get("status")
        if status in FINAL or item.polls + 1 >= len(POLL_DELAYS):
            inbox = data.get("inbox")
            result = "inbox" if status == "ready" and inbox else status
            self._finish(
                item,
                result or "unknown",
                image_id=item.image_id,
                reason=data.get("reason"),
                inbox=inbox,
                patient_id=data.get("patient_id", item.matched_patient_id),
                match_by=item.match_by,
            )
            log.info("capture %s is %s", item.image_id, result)
            return
        self.store.update(
            item.id,
            result=status,
            polls=item.polls + 1,
            next_attempt_at=self.clock() + POLL_DELAYS[item.polls + 1],
        )

    def _expand(self, item: Item) -> None:
        spool = self.spool_dir / f"zip-{item.id}"
        limit = self.settings.max_bytes.get("dicom") or zips.MAX_MEMBER_BYTES
        try:
            members, skipped = zips.extract_dicom(Path(item.source), spool, max_member_bytes=limit)
        except zips.UnsafeZip as exc:
            shutil.rmtree(spool, ignore_errors=True)
            raise Permanent(f"ZIP refused: {exc}") from None
        except FileNotFoundError:
            raise Permanent("the file disappeared before it was uploaded") from None
        if not members:
            shutil.rmtree(spool, ignore_errors=True)
            raise Permanent(f"no DICOM file in the ZIP ({skipped} other members)")
        rows = []
        for m in members:
            hints = files.dicom_hints(m.path)
            rows.append(
                {
                    "source": m.path,
                    "filename": m.name,
                    "size": m.size,
                    "sha256": m.sha256,
                    "dicom": hints,
                    "acquired_at": (hints or {}).get("study_date") or item.acquired_at,
                }
            )
        self.store.expand(item, rows)
        log.info(
            "zip %s expanded: %d DICOM files, %d skipped", short(item.sha256), len(members), skipped
        )

    # --- outcomes -------------------------------------------------------------------------

    def _retry(self, item: Item, exc: ApiError, retry_after: float | None) -> None:
        attempts = item.attempts + 1
        delay = backoff(attempts, retry_after, self.rnd)
        self.store.update(
            item.id, attempts=attempts, next_attempt_at=self.clock() + delay, error=exc.message
        )
        self.store.set_meta("last_error", {"at": _iso(self.clock()), "error": exc.message})
        log.warning(
            "capture %s: %s; retry %d in %.1f s", short(item.sha256), exc.short(), attempts, delay
        )

    def _fail(self, item: Item, message: str, exc: ApiError | None = None) -> None:
        now = self.clock()
        self.store.update(item.id, state="failed", error=message, finished_at=now, upload=None)
        self.store.set_meta("last_error", {"at": _iso(now), "error": message})
        self._drop_spool(item)
        log.error(
            "capture %s failed for good: %s",
            short(item.sha256),
            exc.short() if exc else "local check",
        )

    def _finish(
        self,
        item: Item,
        result: str,
        *,
        image_id: str | None,
        reason: str | None,
        inbox: bool | None,
        patient_id: str | None,
        match_by: str | None,
    ) -> None:
        now = self.clock()
        self.store.update(
            item.id,
            state="done",
            result=result,
            image_id=image_id,
            reason=reason,
            inbox=inbox,
            matched_patient_id=patient_id,
            match_by=match_by,
            finished_at=now,
            upload=None,
            error=None,
        )
        self._drop_spool(item)

    def _report_failure(self, item: Item, message: str) -> None:
        """Tell the API this capture will never be uploaded (its record turns failed)."""
        if not item.image_id:
            return
        try:
            self.client.report_uploaded(item.image_id, ok=False, error=message)
        except ApiError as exc:
            log.info("failure of %s not reported: %s", item.image_id, exc.short())

    # --- helpers --------------------------------------------------------------------------

    def _changed(self, item: Item) -> str | None:
        try:
            st = Path(item.source).stat()
        except FileNotFoundError:
            return "the file disappeared before it was uploaded"
        if st.st_size != item.size or (item.mtime_ns and st.st_mtime_ns != item.mtime_ns):
            try:
                d = files.digest(Path(item.source))
            except OSError:
                return "the file cannot be read any more"
            if d.sha256 != item.sha256:
                return "the file changed after it was queued (the new version is queued apart)"
        return None

    def _kind(self, item: Item) -> str:
        return files.kind_for(item.content_type, self.settings.defaults.get("kind"))

    def _upload_type(self, item: Item) -> str:
        return item.content_type

    def _body(self, item: Item) -> dict[str, Any]:
        kind = self._kind(item)
        d = self.settings.defaults
        body: dict[str, Any] = {
            "filename": item.filename[:255],
            "size": item.size,
            "sha256": item.sha256,
            "content_type": item.content_type,
            "kind": kind,
        }
        if kind in ("xray", "dicom") and d.get("xray_type"):
            body["xray_type"] = d["xray_type"]
        if kind == "photo" and d.get("category"):
            body["category"] = d["category"]
        if item.acquired_at:
            body["acquired_at"] = item.acquired_at
        if item.patient_id:
            body["patient_id"] = item.patient_id
        if item.patient_number:
            body["patient_number"] = item.patient_number
        if item.dicom:
            body["dicom"] = item.dicom
        return body

    def _drop_spool(self, item: Item) -> None:
        if not item.spool:
            return
        Path(item.source).unlink(missing_ok=True)
        if item.parent_id is not None:
            folder = Path(item.source).parent
            with contextlib.suppress(OSError):
                folder.rmdir()  # only once it is empty: the last member of the ZIP


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds")  # noqa: UP017 - 3.10


def _expired(expires_at: Any, at: float) -> bool:
    if not expires_at:
        return False
    try:
        when = datetime.fromisoformat(str(expires_at).replace("Z", "+00:00"))
    except ValueError:
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)  # noqa: UP017 - 3.10
    return when.timestamp() <= at
