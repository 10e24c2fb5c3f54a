"""``cuspide-bridge``: configure, run, scan, upload, status, retry.

Exit codes: 0 done; 1 a usage or configuration problem; 2 another Bridge process holds the
queue; 3 something is still queued (the API unreachable, a file still being written);
4 a capture failed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from cuspide_bridge import __version__, files, logs
from cuspide_bridge.api import ApiError, Client
from cuspide_bridge.config import (
    Config,
    Paths,
    load_key,
    mask_key,
    normalise_api_url,
    paths,
    save_key,
    valid_key,
)
from cuspide_bridge.lock import ProcessLock
from cuspide_bridge.service import Bridge
from cuspide_bridge.store import Store


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cuspide-bridge",
        description="Uploads the captures of an X-ray sensor's folder to Cúspide.",
    )
    p.add_argument("--version", action="version", version=f"cuspide-bridge {__version__}")
    p.add_argument(
        "--home",
        help="keep config, queue and log under this folder "
        "(default: the OS's per-user folders; env CUSPIDE_BRIDGE_HOME)",
    )
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("configure", help="store the API URL, the device key and the folders")
    c.add_argument("--api-url", help="e.g. https://api.clinic.example or http://127.0.0.1:8000")
    c.add_argument("--key", help="the device's API key (cbk_...); '-' reads it from stdin")
    c.add_argument(
        "--folder",
        action="append",
        dest="folders",
        metavar="PATH",
        help="a folder to watch (repeat for several; replaces the stored list)",
    )
    c.add_argument(
        "--patterns",
        nargs="+",
        metavar="GLOB",
        help="file names to upload, e.g. '*.dcm' '*.jpg' (default: the server's)",
    )
    c.add_argument(
        "--stable-seconds", type=float, help="how long a file must not change before it is uploaded"
    )
    c.add_argument("--no-recursive", action="store_true", help="ignore sub-folders")
    c.add_argument(
        "--polling",
        action="store_true",
        help="poll the folders (network shares that send no change events)",
    )
    c.add_argument("--check", action="store_true", help="call the API once to check the key")

    r = sub.add_parser("run", help="watch the folders and upload (the service)")
    r.add_argument(
        "--once",
        action="store_true",
        help="upload what is in the folders now, then exit (same as 'scan')",
    )
    r.add_argument(
        "--wait",
        type=float,
        default=60.0,
        help="with --once: seconds to wait for uploads and processing (default 60)",
    )

    s = sub.add_parser("scan", help="upload what is in the folders now, then exit")
    s.add_argument("--wait", type=float, default=60.0)

    u = sub.add_parser("upload", help="upload one file for an explicit patient")
    u.add_argument("file")
    who = u.add_mutually_exclusive_group()
    who.add_argument("--patient-number", help="the patient's number at the clinic")
    who.add_argument("--patient-id", help="the patient's id in Cúspide")
    u.add_argument("--wait", type=float, default=60.0)

    st = sub.add_parser("status", help="API reachable, device, queue, last upload, last error")
    st.add_argument("--json", action="store_true", help="machine-readable")
    st.add_argument("--offline", action="store_true", help="do not call the API")

    sub.add_parser("retry", help="queue the captures that failed for good once more")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    p = paths(args.home).ensure()
    logs.setup(p.log_file, stderr=args.command == "run" and not args.once)
    try:
        return COMMANDS[args.command](args, p)
    except KeyboardInterrupt:
        return 130


# --- configure ---------------------------------------------------------------------------


def cmd_configure(args: argparse.Namespace, p: Paths) -> int:
    cfg = Config.load(p)
    if args.api_url:
        try:
            cfg.api_url = normalise_api_url(args.api_url)
        except ValueError as exc:
            return _err(str(exc))
    if args.key:
        key = sys.stdin.readline().strip() if args.key == "-" else args.key.strip()
        if not valid_key(key):
            return _err(
                "that is not a device key (cbk_<prefix>.<secret>, shown once when the "
                "device was registered)"
            )
        save_key(p, key)
    if args.folders:
        cfg.folders = [str(Path(f).expanduser().resolve()) for f in args.folders]
    if args.patterns:
        cfg.patterns = args.patterns
    if args.stable_seconds is not None:
        cfg.stable_seconds = max(0.0, args.stable_seconds)
    if args.no_recursive:
        cfg.recursive = False
    if args.polling:
        cfg.polling_observer = True
    cfg.save(p)
    key = load_key(p)
    print(f"Saved to {p.config_file}")
    print(f"  API     {cfg.api_url or '(not set)'}")
    print(f"  key     {mask_key(key)}")
    print(f"  folders {', '.join(cfg.folders) or '(those set on the server)'}")
    for f in cfg.folders:
        if not Path(f).is_dir():
            print(f"  warning: {f} does not exist (yet)")
    if args.check:
        if not (cfg.api_url and key):
            return _err("set --api-url and --key first")
        with Client(cfg.api_url, key) as client:
            try:
                hb = client.heartbeat(None, 0, None)
            except ApiError as exc:
                return _err(f"the API refused: {exc.message}")
        print(f"  OK: {hb.get('device_name')} at {hb.get('clinic_name')}")
    return 0


# --- run / scan / upload -----------------------------------------------------------------


def _bridge(p: Paths) -> tuple[Bridge | None, int]:
    cfg = Config.load(p)
    key = load_key(p)
    if not cfg.api_url or not key:
        return None, _err("not configured: cuspide-bridge configure --api-url URL --key KEY")
    return Bridge(p, cfg, Client(cfg.api_url, key)), 0


def _locked(p: Paths) -> ProcessLock | None:
    lock = ProcessLock(p.lock_file)
    return lock if lock.acquire() else None


def _stop_on_signals(also: threading.Event | None = None) -> threading.Event:
    stop = threading.Event()

    def handler(_sig: int, _frame: Any) -> None:
        stop.set()
        if also is not None:
            also.set()

    for name in ("SIGINT", "SIGTERM", "SIGBREAK", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is not None:
            # not the main thread, or not allowed on this OS: Ctrl-C still stops it
            with contextlib.suppress(ValueError, OSError):
                signal.signal(sig, handler)
    return stop


def cmd_run(args: argparse.Namespace, p: Paths) -> int:
    if getattr(args, "once", False) or args.command == "scan":
        return _once(p, args.wait)
    lock = _locked(p)
    if lock is None:
        return _err("another cuspide-bridge is already running with this configuration", 2)
    bridge, code = _bridge(p)
    if bridge is None:
        lock.release()
        return code
    stop = _stop_on_signals(also=bridge.wake)
    log = logging.getLogger("cuspide_bridge")
    log.info("cuspide-bridge %s started", __version__)
    try:
        bridge.run(stop)
    finally:
        log.info("cuspide-bridge stopped (%d queued)", bridge.store.depth())
        bridge.client.close()
        lock.release()
    return 0


def _once(p: Paths, wait: float) -> int:
    lock = _locked(p)
    if lock is None:
        return _err("another cuspide-bridge is running: it uploads these files itself", 2)
    bridge, code = _bridge(p)
    if bridge is None:
        lock.release()
        return code
    try:
        left = bridge.once(wait, _stop_on_signals())
        counts = bridge.store.counts()
    finally:
        bridge.client.close()
        lock.release()
    print(_summary(counts, left))
    return 3 if left["queued"] or left["still_being_written"] else 0


def cmd_upload(args: argparse.Namespace, p: Paths) -> int:
    path = Path(args.file).expanduser()
    if not path.is_file():
        return _err("no such file")
    bridge, code = _bridge(p)
    if bridge is None:
        return code
    try:
        st = path.stat()
        digest = files.digest(path)
        item_id = bridge.enqueue(
            path,
            digest,
            st,
            patient_number=args.patient_number,
            patient_id=args.patient_id,
            remember=False,
        )
        if item_id is None:
            return _err("the file is empty")
        lock = _locked(p)
        if lock is None:
            print(f"Queued as #{item_id}: the running cuspide-bridge uploads it.")
            return 0
        try:
            bridge.heartbeat()
            stop = _stop_on_signals()
            deadline = time.monotonic() + args.wait
            while not stop.is_set() and time.monotonic() < deadline:
                due = bridge.engine.work(stop.is_set)
                item = bridge.store.get(item_id)
                if item is None or item.state in ("done", "failed"):
                    break
                if item.state == "expanded" and all(
                    c.state in ("done", "failed") for c in bridge.store.children(item_id)
                ):
                    break
                stop.wait(min(1.0, max(0.05, (due or time.time() + 1) - time.time())))
        finally:
            lock.release()
    finally:
        bridge.client.close()
    items = [bridge.store.get(item_id)]
    if items[0] and items[0].state == "expanded":
        items = bridge.store.children(item_id)
    worst = 0
    for it in items:
        if it is None:
            continue
        print(_describe(it))
        if it.state == "failed" or it.result == "failed":
            worst = 4
        elif it.state not in ("done",) and worst == 0:
            worst = 3
    return worst


# --- status / retry ----------------------------------------------------------------------


def cmd_status(args: argparse.Namespace, p: Paths) -> int:
    cfg = Config.load(p)
    key = load_key(p)
    store = Store(p.db_file)
    api: dict[str, Any] = store.meta("api") or {}
    device: dict[str, Any] = store.meta("device") or {}
    if cfg.api_url and key and not args.offline:
        bridge = Bridge(p, cfg, Client(cfg.api_url, key, timeout=10.0), store=store)
        try:
            bridge.heartbeat()
        finally:
            bridge.client.close()
        api, device = store.meta("api") or {}, store.meta("device") or {}
    lock = ProcessLock(p.lock_file)
    running = not lock.acquire()
    lock.release()
    recent = store.recent(10)
    report = {
        "version": __version__,
        "api_url": cfg.api_url or None,
        "key": mask_key(key),
        "api": api,
        "device": device,
        "service_running": running,
        "folders": cfg.folders,
        "server_folders": (store.meta("server_config") or {}).get("folders") or [],
        "queue_depth": store.depth(),
        "counts": store.counts(),
        "last_upload": store.meta("last_upload"),
        "last_error": store.meta("last_error"),
        "recent": [_public(i) for i in recent],
        "log_file": str(p.log_file),
    }
    store.close()
    if args.json:
        print(json.dumps(report, indent=2, default=str))
        return 0
    ok = api.get("ok")
    print(f"cuspide-bridge {__version__}  (service {'running' if running else 'not running'})")
    print(f"API        {cfg.api_url or '(not configured)'}  key {report['key']}")
    reach = "reachable" if ok else f"NOT reachable: {api.get('error') or 'never contacted'}"
    print(f"           {reach} (checked {api.get('at', '-')})")
    if device:
        print(f"Device     {device.get('device_name')} at {device.get('clinic_name')}")
        if device.get("key_expires_at"):
            print(
                f"           key expires {device['key_expires_at']} (rotated: configure the "
                "new one)"
            )
    print(f"Folders    {', '.join(cfg.folders + report['server_folders']) or '(none)'}")
    print(
        f"Queue      {report['queue_depth']} waiting   "
        + "  ".join(f"{k}: {v}" for k, v in sorted(report["counts"].items()))
    )
    lu = report["last_upload"]
    print(f"Last upload {lu['at']} ({lu['image_id']})" if lu else "Last upload -")
    le = report["last_error"]
    print(f"Last error {le['at']}: {le['error']}" if le else "Last error -")
    if recent:
        print("Recent")
        for it in recent:
            print("  " + _describe(it))
    print(f"Log        {p.log_file}")
    return 0


def cmd_retry(args: argparse.Namespace, p: Paths) -> int:
    store = Store(p.db_file)
    n = store.requeue_failed()
    store.close()
    print(f"{n} capture(s) queued again")
    return 0


# --- helpers -----------------------------------------------------------------------------


def _public(it: Any) -> dict[str, Any]:
    """An item as status shows it: ids and outcome, not the file's name or path."""
    return {
        "id": it.id,
        "sha256": it.sha256,
        "state": it.state,
        "result": it.result,
        "image_id": it.image_id,
        "inbox": it.inbox,
        "patient_id": it.matched_patient_id,
        "match_by": it.match_by,
        "reason": it.reason,
        "error": it.error,
        "attempts": it.attempts,
        "zip": it.parent_id,
    }


def _describe(it: Any) -> str:
    what = it.result if it.state == "done" else it.state
    if it.state == "done" and it.result == "ready":
        what = "ready (inbox)" if it.inbox else f"ready on patient {it.matched_patient_id}"
    parts = [f"#{it.id}", it.sha256[:12], what or "?"]
    if it.image_id:
        parts.append(it.image_id)
    if it.reason and it.result != "duplicate":
        parts.append(f"reason: {it.reason}")
    if it.error:
        parts.append(f"error: {it.error}")
    return "  ".join(parts)


def _summary(counts: dict[str, int], left: dict[str, int]) -> str:
    done = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
    return (
        f"{done or 'nothing to upload'}; still queued: {left['queued']}, still being "
        f"written: {left['still_being_written']}"
    )


def _err(msg: str, code: int = 1) -> int:
    print(f"cuspide-bridge: {msg}", file=sys.stderr)
    return code


COMMANDS = {
    "configure": cmd_configure,
    "run": cmd_run,
    "scan": cmd_run,
    "upload": cmd_upload,
    "status": cmd_status,
    "retry": cmd_retry,
}

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
