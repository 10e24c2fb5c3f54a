"""Run the whole system locally: ``python -m infra.local run`` (what ``make run`` calls).

    run     start moto (server mode, loopback), provision, restore saved data, seed the demo
            clinics, serve the API and the SPA, pump the queues, run the scheduler
    reset   delete the saved local data (the next run starts from scratch)

Environment: PORT (8000), MOTO_PORT (4566), STATE_DIR (.local), HOST (127.0.0.1).
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import sys
import threading
import time
from pathlib import Path

from infra.local.provision import env_for, provision
from infra.resources import for_stage

ROOT = Path(__file__).resolve().parents[2]
REGION = "eu-south-2"
SNAPSHOT_CHECK_S = 10
# A snapshot reads the whole table (persist.py), so it is not taken every few seconds while the
# queues' workers write: after this many journaled writes, or this long after the last one.
SNAPSHOT_AFTER_WRITES = 5_000
SNAPSHOT_AT_LEAST_EVERY_S = 300


def log(msg: str) -> None:
    sys.stdout.write(msg + "\n")
    sys.stdout.flush()


def port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        # As the servers themselves do: connections of a just-stopped run (TIME_WAIT) do not
        # keep the port from being reused.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def run(host: str, port: int, moto_port: int, state_dir: Path, stage: str) -> int:
    for name, p in (("PORT", port), ("MOTO_PORT", moto_port)):
        if not port_free(host, p):
            log(
                f"Port {p} on {host} is in use (another `make run`?). Stop that process, "
                f"or choose another port: {name}=<port> make run"
            )
            return 1
    res = for_stage(stage)
    endpoint = f"http://{host}:{moto_port}"
    os.environ.update(env_for(res, endpoint, REGION))
    os.environ.setdefault("APP_URL", f"http://{host}:{port}")
    from infra.local import outbox

    # WhatsApp goes to the stand-in of Meta's Graph API that the outbox serves (docs/adr/0704).
    os.environ.setdefault("WHATSAPP_GRAPH_URL", outbox.graph_url(f"http://{host}:{port}"))
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

    import logging

    from moto.server import ThreadedMotoServer

    from infra.local import moto_dynamodb, moto_s3, moto_sqs

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto_dynamodb.apply()
    moto_s3.apply()
    moto_sqs.apply()

    moto = ThreadedMotoServer(ip_address=host, port=moto_port, verbose=False)
    moto.start()
    box = outbox.Outbox(REGION)
    box.install()

    from chalicelib.core.keys import generate_secret_value
    from infra.local.persist import StateStore

    store = StateStore(state_dir, res, endpoint, REGION)
    provision(res, endpoint, REGION, secret_value=store.secret_value(generate_secret_value))
    store.restore_kms()
    restored = store.restore()
    log(
        f"Embedded AWS (moto) on {endpoint}; restored {restored['items']} items and "
        f"{restored['objects']} objects from {state_dir}, replayed {restored['replayed']} "
        "journaled writes"
        + (f" (ignored {restored['ignored']} torn by a crash)" if restored["ignored"] else "")
    )

    from infra.local import seed

    ctx = seed.run(log)
    log("Seeded the demo clinics." if ctx else "Demo clinics already present.")
    if ctx:
        store.snapshot()  # the seeded demo on disk before any write is journaled on top of it
    # From here on every write moto accepts is on disk before it answers (persist.py).
    store.start_journal()

    import app as app_module
    from infra.local import server
    from infra.local.workers import (
        QueuePump,
        Scheduler,
        image_worker_count,
        pump_in_processes,
        sqs_client,
    )

    stop = threading.Event()
    sqs = sqs_client(endpoint, REGION)
    in_process = [q for q in res.queues if not q.needs_imaging_layer]
    pumps = [QueuePump(res, q, sqs, REGION, stop, log) for q in in_process]
    scheduler = Scheduler(res, stop, log)

    def run_schedule(method: str, body: bytes) -> server.HttpResponse:
        name = body.decode().strip()
        if method != "POST" or name not in scheduler.schedules:
            names = ", ".join(sorted(scheduler.schedules)) or "(none)"
            return server.HttpResponse(
                400, {"Content-Type": "text/plain"}, f"POST a schedule name: {names}".encode()
            )
        scheduler.fire(name)
        return server.HttpResponse(200, {"Content-Type": "text/plain"}, b"fired")

    # The outbox shows invitation and password links: only whoever has the printed key opens
    # it (kept in the state folder, so a bookmarked link survives restarts).
    outbox_key = store.secret_value(lambda: secrets.token_urlsafe(24), name="outbox-key")
    http = server.start(
        app_module.app,
        host,
        port,
        extra_routes=box.routes({"/_local/schedules/run": run_schedule}),
        private=(server.Private(outbox.OUTBOX, outbox_key),),
    )
    for p in pumps:
        p.start()
    # Image decoding holds the interpreter lock for seconds: processes of their own, like its
    # Lambda, and several side by side, as Lambda runs one invocation per upload.
    imaging = [q for q in res.queues if q.needs_imaging_layer]
    processes = [
        proc
        for q in imaging
        for proc in pump_in_processes(res, q, endpoint, REGION, image_worker_count())
    ]
    scheduler.start()

    def snapshot_loop() -> None:
        # The journal has every write already: a snapshot only keeps it short (and the next
        # start quick), so none is taken while nothing was written, and few while much is.
        last = time.monotonic()
        while not stop.wait(SNAPSHOT_CHECK_S):
            try:
                if not store.unsaved():
                    continue
                writes = store.journal.appended if store.journal is not None else 0
                if (
                    writes >= SNAPSHOT_AFTER_WRITES
                    or time.monotonic() - last >= SNAPSHOT_AT_LEAST_EVERY_S
                ):
                    store.snapshot()
                    last = time.monotonic()
            except Exception as exc:  # noqa: BLE001 - keep running; next snapshot retries
                log(f"snapshot failed: {type(exc).__name__}")

    threading.Thread(target=snapshot_loop, name="snapshot", daemon=True).start()

    url = f"http://{host}:{port}"
    log("")
    log(f"  Cúspide is running: {url}/   (API {url}/api/v1, OpenAPI {url}/api/v1/openapi.json)")
    log("  Demo login: admin@demo.clinic / cuspide-demo   (other roles: see README)")
    log("  Second clinic: admin@norte.clinic / cuspide-demo")
    log(f"  Developer outbox (mail and WhatsApp sent): {url}/_local/outbox?key={outbox_key}")
    log("  Ctrl-C stops everything; data is kept in " + str(state_dir))
    log("")

    done = threading.Event()

    def shutdown(signum: int, frame: object) -> None:
        done.set()

    signal.signal(signal.SIGINT, shutdown)
    signal.signal(signal.SIGTERM, shutdown)
    while not done.wait(0.5):
        pass
    log("Stopping: saving local data...")
    stop.set()
    http.shutdown()
    for p in pumps:
        p.join(timeout=5)
    for proc in processes:
        proc.terminate()
    for proc in processes:
        proc.join(timeout=5)
    store.snapshot()
    store.stop_journal()
    store.save_kms()
    moto.stop()
    log("Stopped.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local")
    parser.add_argument("command", choices=["run", "reset"])
    args = parser.parse_args(argv)
    state_dir = Path(os.environ.get("STATE_DIR", ROOT / ".local"))
    if args.command == "reset":
        shutil.rmtree(state_dir, ignore_errors=True)
        log(f"Removed {state_dir}: the next run starts from scratch.")
        return 0
    try:
        code = run(
            host=os.environ.get("HOST", "127.0.0.1"),
            port=int(os.environ.get("PORT", "8000")),
            moto_port=int(os.environ.get("MOTO_PORT", "4566")),
            state_dir=state_dir,
            stage=os.environ.get("CUSPIDE_STAGE", "local"),
        )
    except KeyboardInterrupt:
        # Before start-up finished nothing was saved: the next run starts (and seeds) afresh.
        log("Interrupted during start-up; nothing was saved.")
        code = 130
    # Everything worth keeping is on disk by now. Skip the interpreter's teardown: freeing
    # moto's in-memory AWS (a heap of a gigabyte or more once images are stored) kept the
    # process at full CPU for minutes after "Stopped.".
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
