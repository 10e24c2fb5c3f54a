"""`make run`'s stack, started for real: seeded logins, tenant isolation, the SPA at /,
Ctrl-C stopping cleanly, data surviving a restart, and a SIGKILL losing no confirmed write
and leaving no worker process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import free_port
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
DEMO_PASSWORD = "cuspide-demo"
# The stack shares two cores with the rest of the suite: a request waits generously (a timeout
# here means the stack is stuck, not slow).
TIMEOUT = 60

pytestmark = pytest.mark.e2e


class Stack:
    def __init__(self, state_dir: Path) -> None:
        self.port, self.moto_port = free_port(), free_port()
        self.state_dir = state_dir
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.log = state_dir.parent / f"stack-{self.port}.log"

    def start(self) -> Stack:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CUSPIDE_"))}
        env.update(
            PORT=str(self.port),
            MOTO_PORT=str(self.moto_port),
            STATE_DIR=str(self.state_dir),
            PYTHONUNBUFFERED="1",
        )
        for k in (
            "TABLE_NAME",
            "MEDIA_BUCKET",
            "EVENT_BUS_NAME",
            "KMS_KEY_ALIAS",
            "SIGNING_SECRET_NAME",
            "MAIL_SENDER",
            "QUEUE_NAMES",
            "APP_URL",
            "TRUSTED_PROXY_HOPS",
        ):
            env.pop(k, None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "infra.local", "run"],
            cwd=ROOT,
            env=env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        # The first start seeds the demo: about a minute here, several on a loaded machine.
        deadline = time.time() + 360
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"stack exited early:\n{self.log.read_text()[-3000:]}")
            try:
                healthy = requests.get(self.url + "/api/v1/health", timeout=1).status_code == 200
            except requests.ConnectionError:
                healthy = False
            if healthy and "Cúspide is running" in self.log.read_text():  # banner printed last
                return self
            time.sleep(0.5)
        raise AssertionError(f"stack did not start:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> int:
        """Ctrl-C: the stack saves its data and is gone within seconds (it once went on for
        minutes, freeing its heap at interpreter exit)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=45)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("the stack was still running 45 s after Ctrl-C") from None

    def kill(self) -> None:
        """SIGKILL: no chance to save anything or to stop its children."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=30)

    def children(self) -> dict[int, bytes]:
        """The stack's child processes (started by any of its threads): pid -> command line."""
        assert self.proc is not None
        pids: list[int] = []
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            try:
                pids += [int(c) for c in (task / "children").read_text().split()]
            except FileNotFoundError:
                continue  # a thread that just ended
        return {pid: Path(f"/proc/{pid}/cmdline").read_bytes() for pid in pids}

    def login(self, email: str, password: str = DEMO_PASSWORD) -> requests.Response:
        return requests.post(
            self.url + "/api/v1/auth/login",
            json={"email": email, "password": password},
            timeout=TIMEOUT,
        )


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = Stack(tmp_path_factory.mktemp("stack") / "state").start()
    yield s
    if s.proc and s.proc.poll() is None:
        s.stop()


def test_prints_the_url_and_demo_login(stack):
    out = stack.log.read_text()
    assert stack.url in out and "admin@demo.clinic / cuspide-demo" in out


def test_the_outbox_opens_only_with_the_printed_link(stack):
    import re

    link = re.search(r"(http://\S+/_local/outbox\?key=\S+)", stack.log.read_text()).group(1)
    assert requests.get(stack.url + "/_local/outbox", timeout=TIMEOUT).status_code == 403
    opened = requests.get(link, timeout=TIMEOUT)
    assert opened.status_code == 200 and "text/html" in opened.headers["Content-Type"]


def test_every_demo_role_can_sign_in(stack):
    for email, role in [
        ("admin@demo.clinic", "admin"),
        ("dentist@demo.clinic", "dentist"),
        ("hygienist@demo.clinic", "hygienist"),
        ("assistant@demo.clinic", "assistant"),
        ("reception@demo.clinic", "receptionist"),
    ]:
        r = stack.login(email)
        assert r.status_code == 200, (email, r.text)
        d = r.json()["data"]
        assert d["role"] == role and d["clinic"]["name"] == "Clínica Demo"
        assert d["clinic"]["time_zone"] == "Europe/Madrid" and d["clinic"]["currency"] == "EUR"
    dentist = stack.login("dentist@demo.clinic").json()["data"]
    assert {c["name"] for c in dentist["clinics"]} == {"Clínica Demo", "Clínica Norte"}


def test_the_two_demo_clinics_are_isolated(stack):
    demo = stack.login("admin@demo.clinic").json()["data"]
    norte = stack.login("admin@norte.clinic").json()["data"]
    assert norte["clinic"]["name"] == "Clínica Norte"
    h = {"Authorization": f"Bearer {norte['access_token']}"}
    staff = requests.get(stack.url + "/api/v1/staff", headers=h, timeout=TIMEOUT).json()["data"]
    assert {m["email"] for m in staff} == {"admin@norte.clinic", "dentist@demo.clinic"}
    demo_admin = demo["user"]["user_id"]
    r = requests.post(
        f"{stack.url}/api/v1/staff/{demo_admin}/deactivate", headers=h, timeout=TIMEOUT
    )
    assert r.status_code == 404


def test_health_detailed_and_the_spa(stack):
    r = requests.get(stack.url + "/api/v1/health/detailed", timeout=TIMEOUT)
    assert r.status_code == 200 and r.json()["data"]["status"] == "ok"
    page = requests.get(stack.url + "/", timeout=TIMEOUT)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    deep = requests.get(stack.url + "/patients/some-id", timeout=TIMEOUT)
    assert deep.status_code == 200 and "text/html" in deep.headers["Content-Type"]


def test_a_burst_of_uploads_is_rendered_by_image_workers_in_their_own_processes(stack):
    """Decoding holds the interpreter lock for seconds, so the imaging queue is pumped in child
    processes (as its Lambda would be), never in the API's, and by several side by side (as
    Lambda runs one invocation per upload): a dozen captures at once are all rendered."""
    import io

    from PIL import Image

    from infra.local.workers import image_worker_count

    demo = stack.login("admin@demo.clinic").json()["data"]
    h = {"Authorization": f"Bearer {demo['access_token']}"}
    patients = requests.get(stack.url + "/api/v1/patients?limit=1", headers=h, timeout=TIMEOUT)
    pid = patients.json()["data"]["items"][0]["patient_id"]
    images = []
    for n in range(12):
        buf = io.BytesIO()
        Image.new("RGB", (1600, 1200), (200, 120 + n, 90)).save(buf, "JPEG")
        jpeg = buf.getvalue()
        body = {"kind": "photo", "filename": f"sonrisa-{n}.jpg", "content_type": "image/jpeg"}
        r = requests.post(
            f"{stack.url}/api/v1/patients/{pid}/images",
            json={**body, "size": len(jpeg), "category": "extraoral_smile"},
            headers=h,
            timeout=TIMEOUT,
        )
        assert r.status_code == 201, r.text
        images.append((r.json()["data"], jpeg))
    for d, jpeg in images:
        upload = d["upload"]
        files = {"file": ("sonrisa.jpg", jpeg, "image/jpeg")}
        s3 = requests.post(upload["url"], data=upload["fields"], files=files, timeout=TIMEOUT)
        assert s3.status_code in (200, 201, 204), s3.text

    def statuses() -> dict[str, str]:
        out = {}
        for d, _ in images:
            image_id = d["image"]["image_id"]
            url = f"{stack.url}/api/v1/patients/{pid}/images/{image_id}"
            out[image_id] = requests.get(url, headers=h, timeout=TIMEOUT).json()["data"]["status"]
        return out

    def all_handled() -> dict[str, str] | None:
        now = statuses()
        return None if {"pending", "processing"} & set(now.values()) else now

    done = wait_for(all_handled, "a dozen uploaded photos to be rendered", timeout_s=300)
    assert set(done.values()) == {"ready"}, done

    pid_ = stack.proc.pid
    children = Path(f"/proc/{pid_}/task/{pid_}/children").read_text().split()
    cmdlines = [Path(f"/proc/{c}/cmdline").read_bytes() for c in children]
    workers = [c for c in cmdlines if b"spawn_main" in c]  # not the resource tracker
    assert len(workers) == image_worker_count() >= 1, cmdlines


def test_ctrl_c_stops_cleanly_and_data_survives_a_restart(stack):
    demo = stack.login("admin@demo.clinic").json()["data"]
    h = {"Authorization": f"Bearer {demo['access_token']}"}
    r = requests.patch(
        stack.url + "/api/v1/clinics/current",
        json={"legal_name": "Persisted S.L."},
        headers=h,
        timeout=TIMEOUT,
    )
    assert r.status_code == 200
    assert stack.stop() == 0
    assert "Stopped." in stack.log.read_text()
    again = Stack(stack.state_dir).start()
    try:
        d = again.login("admin@demo.clinic").json()["data"]
        assert d["clinic"]["legal_name"] == "Persisted S.L."
        assert "already present" in again.log.read_text()
        # the refresh token issued before the restart still rotates (sessions persisted)
        r = requests.post(
            again.url + "/api/v1/auth/refresh",
            json={"refresh_token": demo["refresh_token"]},
            timeout=TIMEOUT,
        )
        assert r.status_code == 200, r.text
    finally:
        assert again.stop() == 0


def _running(stack: Stack) -> Stack:
    """The module's stack while it runs (this test alone), else a new one on its state."""
    if stack.proc is not None and stack.proc.poll() is None:
        return stack
    return Stack(stack.state_dir).start()


def _auth(s: Stack) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {s.login('admin@demo.clinic').json()['data']['access_token']}"
    }


def _issue_invoice(s: Stack, h: dict[str, str], patient_id: str) -> dict:
    treatments = requests.get(
        s.url + "/api/v1/billing/treatments?limit=1", headers=h, timeout=TIMEOUT
    ).json()["data"]["items"]
    r = requests.post(
        s.url + "/api/v1/billing/invoices",
        json={"patient_id": patient_id, "lines": [{"treatment_id": treatments[0]["treatment_id"]}]},
        headers=h,
        timeout=TIMEOUT,
    )
    assert r.status_code == 201, r.text
    r = requests.post(
        f"{s.url}/api/v1/billing/invoices/{r.json()['data']['invoice_id']}/issue",
        headers=h,
        timeout=TIMEOUT,
    )
    assert r.status_code == 200, r.text
    return r.json()["data"]


def test_sigkill_loses_no_confirmed_write_and_reuses_no_invoice_number(stack):
    """Every write the stack confirmed is on disk before its answer (the write-ahead journal):
    killed with SIGKILL right after the answers, between snapshots, the next start has them:
    the clinic's new legal name, an uploaded photo, and an issued invoice, whose number is not
    handed out a second time."""
    import io
    import uuid

    import boto3
    from PIL import Image

    from infra.resources import for_stage

    first = _running(stack)
    try:
        h = _auth(first)
        patients = requests.get(first.url + "/api/v1/patients?limit=1", headers=h, timeout=TIMEOUT)
        pid = patients.json()["data"]["items"][0]["patient_id"]

        buf = io.BytesIO()
        Image.new("RGB", (64, 48), (10, 120, 200)).save(buf, "JPEG")
        jpeg = buf.getvalue()
        r = requests.post(
            f"{first.url}/api/v1/patients/{pid}/images",
            json={
                "kind": "photo",
                "filename": "antes.jpg",
                "content_type": "image/jpeg",
                "size": len(jpeg),
                "category": "extraoral_smile",
            },
            headers=h,
            timeout=TIMEOUT,
        )
        assert r.status_code == 201, r.text
        upload = r.json()["data"]["upload"]
        files = {"file": ("antes.jpg", jpeg, "image/jpeg")}
        s3 = requests.post(upload["url"], data=upload["fields"], files=files, timeout=TIMEOUT)
        assert s3.status_code in (200, 201, 204), s3.text

        legal_name = f"Confirmada {uuid.uuid4().hex[:8]} S.L."
        r = requests.patch(
            first.url + "/api/v1/clinics/current",
            json={"legal_name": legal_name},
            headers=h,
            timeout=TIMEOUT,
        )
        assert r.status_code == 200, r.text
        issued = _issue_invoice(first, h, pid)
    finally:
        first.kill()  # right after the last 200: no snapshot since those writes

    again = Stack(stack.state_dir).start()
    try:
        assert "already present" in again.log.read_text()
        h = _auth(again)
        clinic = requests.get(again.url + "/api/v1/clinics/current", headers=h, timeout=TIMEOUT)
        assert clinic.json()["data"]["legal_name"] == legal_name
        r = requests.get(
            f"{again.url}/api/v1/billing/invoices/{issued['invoice_id']}",
            headers=h,
            timeout=TIMEOUT,
        )
        kept = r.json()["data"]
        assert (kept["status"], kept["num_serie"]) == ("issued", issued["num_serie"])
        following = _issue_invoice(again, h, pid)
        assert following["series"] == issued["series"]
        assert following["number"] == issued["number"] + 1, (issued, following)

        moto_s3 = boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{again.moto_port}",
            region_name="eu-south-2",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        got = moto_s3.get_object(
            Bucket=for_stage("local").media_bucket, Key=upload["fields"]["key"]
        )
        assert got["Body"].read() == jpeg and got["ContentType"] == "image/jpeg"
    finally:
        assert again.stop() == 0


def test_sigkill_leaves_no_worker_process_of_the_killed_stack_running(stack):
    """The image-worker pumps are child processes; a stack killed with SIGKILL cannot stop
    them, so they leave by themselves: none goes on taking the next stack's jobs."""
    from infra.local.workers import image_worker_count

    s = _running(stack)
    children = s.children()
    pumps = [pid for pid, cmd in children.items() if b"multiprocessing.spawn" in cmd]
    assert len(pumps) == image_worker_count() >= 1, children

    def stat(pid: int) -> tuple[str, str] | None:
        """(state, start time) of a process, None once it is gone."""
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            return None
        return fields[0], fields[19]

    started = {pid: stat(pid)[1] for pid in children}
    s.kill()

    def running(pid: int) -> bool:
        now = stat(pid)
        # a zombie has exited already; another start time is another process with that pid
        return now is not None and now[0] != "Z" and now[1] == started[pid]

    wait_for(
        lambda: not any(running(pid) for pid in children),
        "the killed stack's child processes to exit",
        timeout_s=15,
    )
