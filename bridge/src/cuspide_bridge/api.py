"""The device API (``/api/v1/bridge/device/...``) and the presigned upload, over httpx.

Every failure becomes one of three errors, which is all the queue needs to know:

- :class:`Transient`: the network, a 5xx or a 429 - try again later (``retry_after`` seconds
  when the server said so);
- :class:`KeyRejected`: 401 - the key is revoked, rotated out or wrong; nothing is dropped,
  the queue waits until the key is fixed;
- :class:`Permanent`: any other 4xx - this request will never succeed as it is; it carries the
  server's message and code.
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import httpx

from cuspide_bridge import __version__
from cuspide_bridge.config import redact

USER_AGENT = f"cuspide-bridge/{__version__}"


class ApiError(Exception):
    def __init__(self, message: str, status: int | None = None, code: str | None = None):
        super().__init__(redact(message))
        self.message = redact(message)
        self.status = status
        self.code = code

    def short(self) -> str:
        """For the log and the heartbeat: the status and code, never a message that might
        repeat something of the request."""
        return " ".join(x for x in (type(self).__name__, str(self.status or ""), self.code) if x)


class Transient(ApiError):
    def __init__(
        self,
        message: str,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message, status, code)
        self.retry_after = retry_after


class Permanent(ApiError):
    pass


class KeyRejected(ApiError):
    pass


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After``: delay-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _error_from(resp: httpx.Response, what: str) -> ApiError:
    message, code = f"{what}: HTTP {resp.status_code}", None
    try:
        body = resp.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        err = body.get("error") if isinstance(body.get("error"), dict) else body
        code = err.get("code") if isinstance(err.get("code"), str) else None
        if isinstance(err.get("message"), str) and err["message"]:
            message = err["message"]
            details = [
                f"{e.get('field', '')}: {e.get('message', '')}".strip(": ")
                for e in err.get("errors") or []
                if isinstance(e, dict)
            ]
            if details:
                message += " (" + "; ".join(details)[:500] + ")"
    if resp.status_code == 429 or resp.status_code >= 500:
        return Transient(
            message, resp.status_code, code, parse_retry_after(resp.headers.get("Retry-After"))
        )
    if resp.status_code == 401:
        return KeyRejected(message, resp.status_code, code or "DEVICE_KEY_INVALID")
    return Permanent(message, resp.status_code, code)


@dataclass
class UploadForm:
    url: str
    fields: dict[str, str]
    expires_at: str | None = None


class Client:
    """One HTTP session with the API, authenticated with the device key."""

    def __init__(
        self,
        api_url: str,
        key: str,
        timeout: float = 30.0,
        upload_timeout: float = 300.0,
        transport: httpx.BaseTransport | None = None,
    ):
        self.api_url = api_url.rstrip("/")
        self._upload_timeout = upload_timeout
        self._http = httpx.Client(
            headers={
                "Authorization": f"Bearer {key}",
                "User-Agent": USER_AGENT,
                "Accept-Language": "en",
            },
            timeout=httpx.Timeout(timeout, connect=10.0),
            transport=transport,
            follow_redirects=False,
        )
        # The presigned upload never carries the key (it goes to the storage, not the API).
        self._s3 = httpx.Client(
            headers={"User-Agent": USER_AGENT},
            timeout=httpx.Timeout(upload_timeout, connect=10.0),
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()
        self._s3.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- device API -----------------------------------------------------------------------

    def _call(self, method: str, path: str, what: str, json: Any = None) -> Any:
        try:
            resp = self._http.request(method, self.api_url + path, json=json)
        except httpx.TransportError as exc:
            raise Transient(f"{what}: {type(exc).__name__}") from None
        if resp.status_code >= 400:
            raise _error_from(resp, what)
        try:
            body = resp.json()
        except ValueError:
            raise Transient(f"{what}: the answer is not JSON", resp.status_code) from None
        return body.get("data", body) if isinstance(body, dict) else body

    def heartbeat(self, hostname: str | None, queue_depth: int, last_error: str | None) -> dict:
        body: dict[str, Any] = {"client_version": __version__, "queue_depth": queue_depth}
        if hostname:
            body["hostname"] = hostname[:255]
        if last_error:
            body["last_error"] = redact(last_error)[:500]
        return self._call("POST", "/bridge/device/heartbeat", "heartbeat", body)

    def request_capture(self, body: dict[str, Any]) -> dict:
        return self._call("POST", "/bridge/device/captures", "capture request", body)

    def report_uploaded(self, image_id: str, ok: bool, error: str | None = None) -> dict:
        body: dict[str, Any] = {"ok": ok}
        if error:
            body["error"] = error[:500]
        return self._call(
            "POST", f"/bridge/device/captures/{image_id}/uploaded", "upload report", body
        )

    def capture_status(self, image_id: str) -> dict:
        return self._call("GET", f"/bridge/device/captures/{image_id}", "capture status")

    # --- the presigned POST ---------------------------------------------------------------

    def upload(self, form: UploadForm, path: Path, content_type: str) -> None:
        """POST the file to the presigned form: its fields, then the file last as ``file``
        (streamed from disk, never read whole into memory)."""
        with path.open("rb") as f:
            self.upload_stream(form, f, content_type)

    def upload_stream(self, form: UploadForm, f: BinaryIO, content_type: str) -> None:
        try:
            resp = self._s3.post(
                form.url, data=form.fields, files={"file": ("capture", f, content_type)}
            )
        except httpx.TransportError as exc:
            raise Transient(f"upload: {type(exc).__name__}") from None
        if resp.status_code >= 400:
            # S3 answers XML; an expired form is 403 - the caller asks for a fresh one.
            err = _error_from(resp, "upload")
            if isinstance(err, KeyRejected):
                err = Permanent(err.message, err.status, err.code)
            raise err
