"""The running Bridge: watch the folders (watchdog), turn completely written files into queue
items, work the queue, send a heartbeat now and then and take the server's config from it.

The watcher's thread only notes paths (``StabilityTracker.touch``) and wakes the main loop;
everything else - hashing, sqlite, HTTP - happens on the main thread, one step at a time.
A rescan every few minutes is only a safety net for events a network share never sends.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler

from cuspide_bridge import files
from cuspide_bridge.api import ApiError, Client
from cuspide_bridge.config import DEFAULT_PATTERNS, DEFAULT_STABLE_SECONDS, Config, Paths
from cuspide_bridge.engine import Engine, Settings, short
from cuspide_bridge.store import Store

log = logging.getLogger("cuspide_bridge")


class _Handler(FileSystemEventHandler):
    def __init__(self, bridge: Bridge, root: Path):
        self.bridge, self.root = bridge, root

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory or event.event_type in ("deleted", "opened", "closed_no_write"):
            return
        raw = getattr(event, "dest_path", "") or event.src_path
        path = Path(os.fsdecode(raw))
        self.bridge.noticed(path, self.root)


class Bridge:
    def __init__(
        self,
        paths: Paths,
        config: Config,
        client: Client,
        store: Store | None = None,
        clock: Callable[[], float] = time.time,
        **engine_kw: Any,
    ):
        self.paths = paths.ensure()
        self.config = config
        self.client = client
        self.store = store or Store(paths.db_file, clock=clock)
        self.clock = clock
        self.settings = self._merge(self.store.meta("server_config") or {})
        self.tracker = files.StabilityTracker(self.settings.stable_seconds)
        self.engine = Engine(
            self.store, client, self.settings, paths.spool_dir, clock=clock, **engine_kw
        )
        self.wake = threading.Event()
        self._observer: Any = None
        self._watched: list[str] = []

    # --- config ---------------------------------------------------------------------------

    def _merge(self, server: dict[str, Any]) -> Settings:
        folders = list(dict.fromkeys([*self.config.folders, *(server.get("folders") or [])]))
        stable = self.config.stable_seconds
        if stable is None:
            stable = server.get("stable_seconds") or DEFAULT_STABLE_SECONDS
        return Settings(
            folders=folders,
            patterns=self.config.patterns or server.get("patterns") or list(DEFAULT_PATTERNS),
            stable_seconds=float(stable),
            defaults=dict(server.get("defaults") or {}),
            max_bytes={k: int(v) for k, v in (server.get("max_bytes") or {}).items() if v},
        )

    def heartbeat(self) -> dict[str, Any] | None:
        """Tell the API we are alive (and how deep the queue is); take its config."""
        last = self.store.meta("last_error") or {}
        try:
            data = self.client.heartbeat(
                socket.gethostname(), self.store.depth(), last.get("error")
            )
        except ApiError as exc:
            self.store.set_meta(
                "api", {"ok": False, "at": _now(), "error": exc.message, "status": exc.status}
            )
            log.warning("heartbeat failed: %s", exc.short())
            return None
        self.store.set_meta("api", {"ok": True, "at": _now()})
        self.store.set_meta(
            "device",
            {
                k: data.get(k)
                for k in (
                    "device_id",
                    "device_name",
                    "clinic_name",
                    "server_time",
                    "key_expires_at",
                )
            },
        )
        server = data.get("config") or {}
        self.store.set_meta("server_config", server)
        self.apply(self._merge(server))
        skew = _skew(data.get("server_time"), self.clock())
        if skew is not None and abs(skew) > 300:
            log.warning("this PC's clock is %.0f s off the server's", skew)
        return data

    def apply(self, settings: Settings) -> None:
        s = self.settings
        s.folders, s.patterns = settings.folders, settings.patterns
        s.stable_seconds, s.defaults, s.max_bytes = (
            settings.stable_seconds,
            settings.defaults,
            settings.max_bytes,
        )
        self.tracker.stable_seconds = s.stable_seconds
        if self._observer is not None and self._watched != self._existing_folders():
            self._restart_observer()

    # --- files ----------------------------------------------------------------------------

    def noticed(self, path: Path, root: Path) -> None:
        if files.wanted(path, self.settings.patterns) and not files.hidden_dir(path, root):
            self.tracker.touch(path)
            self.wake.set()

    def scan(self) -> int:
        """Every file already in the folders that was never queued goes to the tracker."""
        found = 0
        for folder in self._existing_folders():
            root = Path(folder)
            walker = root.rglob("*") if self.config.recursive else root.glob("*")
            for path in walker:
                try:
                    if not path.is_file() or files.hidden_dir(path, root):
                        continue
                    if not files.wanted(path, self.settings.patterns):
                        continue
                    st = path.stat()
                except OSError:
                    continue
                if not self.store.known(path, st.st_size, st.st_mtime_ns):
                    self.tracker.touch(path)
                    found += 1
        return found

    def ingest(self) -> int:
        """Queue the files that are completely written now."""
        n = 0
        for path, digest, st in self.tracker.ready():
            if self.enqueue(path, digest, st) is not None:
                n += 1
        return n

    def enqueue(
        self,
        path: Path,
        digest: files.Digest,
        st: os.stat_result,
        patient_number: str | None = None,
        patient_id: str | None = None,
        remember: bool = True,
    ) -> int | None:
        if digest.size == 0:
            return None  # an empty file is a file still to be written (or nothing at all)
        ctype = files.content_type(path, digest.head)
        hints = files.dicom_hints(path) if ctype == "application/dicom" else None
        item_id = self.store.enqueue(
            source=path.resolve(),
            filename=path.name,
            size=digest.size,
            mtime_ns=st.st_mtime_ns,
            sha256=digest.sha256,
            content_type=ctype,
            patient_number=patient_number,
            patient_id=patient_id,
            dicom=hints,
            acquired_at=files.acquired_at(ctype, hints, st.st_mtime),
            remember=remember,
        )
        if item_id is not None:
            log.info(
                "queued %s as #%d (%s, %d bytes)", short(digest.sha256), item_id, ctype, digest.size
            )
        return item_id

    # --- watching -------------------------------------------------------------------------

    def _existing_folders(self) -> list[str]:
        out = []
        for i, f in enumerate(self.settings.folders):
            if Path(f).is_dir():
                out.append(str(Path(f).resolve()))
            else:
                log.warning("watched folder #%d does not exist (yet)", i + 1)
        return out

    def _restart_observer(self) -> None:
        self.stop_watching()
        self.start_watching()

    def start_watching(self) -> None:
        if self.config.polling_observer:
            from watchdog.observers.polling import PollingObserver as ObserverCls
        else:
            from watchdog.observers import Observer as ObserverCls
        obs = ObserverCls()
        self._watched = self._existing_folders()
        for folder in self._watched:
            obs.schedule(_Handler(self, Path(folder)), folder, recursive=self.config.recursive)
        obs.daemon = True
        obs.start()
        self._observer = obs
        log.info("watching %d folder(s)", len(self._watched))

    def stop_watching(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=10)
            self._observer = None

    # --- loops ----------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """The service: until ``stop`` is set."""
        self.start_watching()  # the local folders at once, whatever the API does
        self.heartbeat()  # may add the server's folders (the watcher is then rescheduled)
        self.scan()
        next_beat = time.monotonic() + self.config.heartbeat_seconds
        next_scan = time.monotonic() + self.config.rescan_seconds
        try:
            while not stop.is_set():
                self.wake.clear()
                self.ingest()
                due = self.engine.work(stop.is_set)
                mono = time.monotonic()
                if mono >= next_beat:
                    self.heartbeat()
                    next_beat = mono + self.config.heartbeat_seconds
                if mono >= next_scan:
                    self.scan()
                    next_scan = mono + self.config.rescan_seconds
                wait = 1.0 if len(self.tracker) else 5.0
                if due is not None:
                    wait = min(wait, max(0.05, due - self.clock()))
                stop.wait(0) or self.wake.wait(min(wait, max(0.05, next_beat - mono)))
        finally:
            self.stop_watching()

    def once(self, wait_s: float = 60.0, stop: threading.Event | None = None) -> dict[str, int]:
        """``scan``/``run --once``: queue what is in the folders now, upload it, follow it until
        ready/failed, and return - within about ``wait_s`` (what is left stays queued)."""
        stop = stop or threading.Event()
        self.heartbeat()
        self.scan()
        deadline = time.monotonic() + wait_s
        while not stop.is_set():
            self.ingest()
            due = self.engine.work(stop.is_set)
            if not len(self.tracker) and due is None:
                break
            if time.monotonic() >= deadline:
                break
            pause = 0.2 if len(self.tracker) else max(0.05, (due or 0) - self.clock())
            stop.wait(min(pause, 1.0, max(0.0, deadline - time.monotonic())))
        return {"queued": self.store.depth(), "still_being_written": len(self.tracker)}


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def _skew(server_time: Any, now: float) -> float | None:
    if not server_time:
        return None
    try:
        return datetime.fromisoformat(str(server_time).replace("Z", "+00:00")).timestamp() - now
    except ValueError:
        return None
