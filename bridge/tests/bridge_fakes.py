"""Unit tests only: an in-process fake of the device API and of the storage's presigned POST,
plus small file factories (JPEG-like, PNG, DICOM).

The fake follows the contract (/work/bridge-contract.md, "Device API"): dedupe by SHA-256 per
clinic, a pending capture answered again with a fresh form for the same image_id, the upload
turning the capture ``processing`` (as the image worker picks it up), then ``ready`` or
``failed`` once reported; matching by explicit number or DICOM PatientID, else the inbox.
Failures are scripted per route (status, headers) and the storage can be slowed down.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import io
import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

KEY = "cbk_abcdefghijkm." + "S" * 43
PATIENTS = {"1001": "pat-1001", "1002": "pat-1002"}


class FakeApi:
    def __init__(self) -> None:
        self.key = KEY
        self.lock = threading.Lock()
        self.calls: list[tuple[str, str]] = []
        self.captures: dict[str, dict] = {}
        self.by_sha: dict[str, str] = {}
        self.s3: dict[str, list[bytes]] = {}  # image_id -> every body received
        self.script: list[tuple[str, int, dict]] = []  # (route prefix, status, headers)
        self.s3_delay = 0.0
        self.config = {
            "folders": [],
            "patterns": [],
            "defaults": {"kind": "xray", "xray_type": "periapical"},
            "cabinet_id": None,
            "stable_seconds": 0.2,
            "max_bytes": {"photo": 10_000_000, "xray": 10_000_000, "dicom": 50_000_000},
        }
        self.heartbeats: list[dict] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- what tests look at ----------------------------------------------------------------

    def fail_next(self, route: str, status: int, times: int = 1, **headers: str) -> None:
        for _ in range(times):
            self.script.append((route, status, headers))

    def uploads(self) -> list[str]:
        """The sha256 of every body the storage received, in order."""
        return [c["sha256"] for c in self.captures.values() for _ in self.s3.get(c["id"], [])]

    def upload_order(self) -> list[str]:
        return list(self._order)

    _order: list[str]

    # --- the handler ------------------------------------------------------------------------

    def _handler(self):
        api = self
        api._order = []

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):  # quiet
                pass

            def _send(self, status: int, body=None, headers: dict | None = None):
                raw = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(raw)

            def _err(self, status: int, code: str, message: str, headers=None):
                self._send(
                    status,
                    {"data": None, "message": message, "code": code, "errors": []},
                    headers,
                )

            def _body(self) -> bytes:
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n) if n else b""

            def do_GET(self):
                self._route("GET")

            def do_POST(self):
                self._route("POST")

            def _route(self, method: str):
                path = self.path
                raw = self._body()
                with api.lock:
                    api.calls.append((method, path))
                    for i, (prefix, status, headers) in enumerate(api.script):
                        if path.startswith(prefix):
                            del api.script[i]
                            return self._err(status, f"HTTP_{status}", "scripted", headers)
                if path.startswith("/s3/"):
                    return self._s3(path.split("/")[2], raw)
                if self.headers.get("Authorization") != f"Bearer {api.key}":
                    return self._err(401, "DEVICE_KEY_INVALID", "Invalid device key")
                body = json.loads(raw) if raw else {}
                p = path.removeprefix("/api/v1/bridge/device")
                if p == "/heartbeat" and method == "POST":
                    api.heartbeats.append(body)
                    return self._send(
                        200,
                        {
                            "data": {
                                "device_id": "dev-1",
                                "device_name": "Sensor gab. 1",
                                "clinic_name": "Clínica Test",
                                "server_time": "2026-01-01T00:00:00Z",
                                "config": api.config,
                                "key_expires_at": None,
                            }
                        },
                    )
                if p == "/captures" and method == "POST":
                    return self._capture(body)
                m = re.fullmatch(r"/captures/([^/]+)/uploaded", p)
                if m and method == "POST":
                    return self._uploaded(m.group(1), body)
                m = re.fullmatch(r"/captures/([^/]+)", p)
                if m and method == "GET":
                    c = api.captures.get(m.group(1))
                    if not c:
                        return self._err(404, "NOT_FOUND", "no such capture")
                    return self._send(
                        200,
                        {
                            "data": {
                                "image_id": c["id"],
                                "status": c["status"],
                                "reason": c["reason"],
                                "inbox": c["patient_id"] is None,
                                "patient_id": c["patient_id"],
                            }
                        },
                    )
                return self._err(404, "NOT_FOUND", "no such route")

            def _capture(self, body: dict):
                if not re.fullmatch(r"[0-9a-f]{64}", body.get("sha256", "")):
                    return self._err(422, "VALIDATION", "sha256: not a SHA-256")
                if body.get("patient_number") == "404":
                    return self._err(404, "PATIENT_NOT_FOUND", "No patient with that number")
                with api.lock:
                    existing = api.by_sha.get(body["sha256"])
                    if existing:
                        c = api.captures[existing]
                        if c["status"] == "pending":
                            return self._send(
                                200,
                                {
                                    "data": {
                                        "image_id": c["id"],
                                        "status": "pending",
                                        "duplicate": False,
                                        "upload": api._form(c),
                                        "match": c["match"],
                                    }
                                },
                            )
                        return self._send(
                            200,
                            {
                                "data": {
                                    "image_id": c["id"],
                                    "status": c["status"],
                                    "duplicate": True,
                                    "upload": None,
                                    "match": c["match"],
                                }
                            },
                        )
                    pid = PATIENTS.get(str(body.get("patient_number") or ""))
                    by = "explicit" if pid else None
                    if not pid and body.get("dicom"):
                        pid = PATIENTS.get(str(body["dicom"].get("patient_id") or ""))
                        by = "dicom" if pid else None
                    c = {
                        "id": "img-" + uuid.uuid4().hex[:10],
                        "sha256": body["sha256"],
                        "status": "pending",
                        "reason": None,
                        "patient_id": pid,
                        "body": body,
                        "match": {
                            "patient_id": pid,
                            "by": by,
                            "reason": None if pid else "no_match",
                        },
                    }
                    api.captures[c["id"]] = c
                    api.by_sha[body["sha256"]] = c["id"]
                return self._send(
                    201,
                    {
                        "data": {
                            "image_id": c["id"],
                            "status": "pending",
                            "duplicate": False,
                            "upload": api._form(c),
                            "match": c["match"],
                        }
                    },
                )

            def _s3(self, image_id: str, raw: bytes):
                if api.s3_delay:
                    time.sleep(api.s3_delay)
                ctype = self.headers.get("Content-Type", "")
                msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                    b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + raw
                )
                fields, data = {}, None
                for part in msg.iter_parts():
                    name = part.get_param("name", header="content-disposition")
                    if name == "file":
                        data = part.get_payload(decode=True)
                    else:
                        fields[name] = part.get_payload(decode=True).decode()
                c = api.captures.get(image_id)
                if c is None or fields.get("key") != f"uploads/{image_id}/original":
                    self.send_response(403)
                    self.end_headers()
                    return
                with api.lock:
                    api.s3.setdefault(image_id, []).append(data)
                    api._order.append(c["sha256"])
                    assert hashlib.sha256(data).hexdigest() == c["sha256"]
                    c["status"] = "processing"  # the worker picks it up from the S3 event
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _uploaded(self, image_id: str, body: dict):
                c = api.captures.get(image_id)
                if c is None:
                    return self._err(404, "NOT_FOUND", "no such capture")
                with api.lock:
                    if not body.get("ok"):
                        c["status"], c["reason"] = "failed", body.get("error") or "not uploaded"
                    elif image_id in api.s3:
                        data = api.s3[image_id][-1]
                        jpeg = data[:3] == b"\xff\xd8\xff" and data.endswith(b"\xff\xd9")
                        png = data[:8] == b"\x89PNG\r\n\x1a\n"
                        if jpeg or png or data[128:132] == b"DICM":
                            c["status"] = "ready"
                        else:
                            c["status"], c["reason"] = "failed", "not a readable image"
                return self._send(200, {"data": {"image_id": image_id, "status": c["status"]}})

        return H

    def _form(self, c: dict) -> dict:
        return {
            "url": f"{self.url}/s3/{c['id']}",
            "fields": {"key": f"uploads/{c['id']}/original", "policy": "eyJ4Ijp9"},
            "expires_at": "2099-01-01T00:00:00Z",
        }


# --- files -------------------------------------------------------------------------------


def jpeg_bytes(seed: int = 0, size: int = 2000) -> bytes:
    """JPEG-shaped bytes (SOI ... EOI), distinct per seed."""
    body = hashlib.sha256(str(seed).encode()).digest() * (size // 32 + 1)
    return b"\xff\xd8\xff\xe0" + body[:size] + b"\xff\xd9"


def png_bytes(seed: int = 0) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + hashlib.sha256(b"png%d" % seed).digest() * 20


def dicom_bytes(
    patient_id: str = "1001",
    name: str = "GARCIA^ANA",
    study: str = "1.2.3.4",
    series: str = "1.2.3.4.1",
    sop: str | None = None,
    instance: int = 1,
) -> bytes:
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.3"  # digital intra-oral X-ray
    meta.MediaStorageSOPInstanceUID = sop or generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset("x.dcm", {}, file_meta=meta, preamble=b"\x00" * 128)
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.PatientID, ds.PatientName, ds.PatientBirthDate = patient_id, name, "19800215"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
    ds.SeriesNumber, ds.InstanceNumber = 1, instance
    ds.Modality, ds.StudyDate = "IO", "20250310"
    ds.Rows, ds.Columns, ds.BitsAllocated, ds.BitsStored, ds.HighBit = 2, 2, 16, 12, 11
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PixelRepresentation = 1, "MONOCHROME2", 0
    ds.PixelData = b"\x00\x01" * 4
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def write(path: Path, data: bytes, age_s: float = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if age_s:
        t = time.time() - age_s
        import os

        os.utime(path, (t, t))
    return path
