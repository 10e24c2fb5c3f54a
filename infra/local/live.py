"""The live-notifications WebSocket on the local server, as API Gateway serves it on AWS.

- ``ws://<host>:<PORT>/live?ticket=...`` (same origin as the SPA and the API): the handshake,
  the frames and the close are handled with ``wsproto`` (a sans-IO implementation of RFC 6455,
  driven here by the HTTP server's thread for that connection), and each step is handed, as the
  same event API Gateway builds, to ``functions/live_socket.py``: ``$connect`` (a non-2xx answer
  refuses the handshake with that status), ``$default`` for every text message (a ``body`` in the
  answer is sent back, as a route response is) and ``$disconnect``.
- ``<PORT>/_live/@connections/{id}``: API Gateway's Management API wire protocol
  (``POST`` = PostToConnection, ``DELETE`` = DeleteConnection, ``GET`` = GetConnection;
  410 ``GoneException`` for an unknown connection), so ``functions/live_push.py`` uses the real
  boto3 ``apigatewaymanagementapi`` client against it, endpoint ``http://<host>:<PORT>/_live``.

Requests to the Management API must carry a SigV4 ``Authorization`` header (as boto3 sends;
not verified, the local stack has no real credentials): a web page cannot send one
cross-origin without a CORS preflight, which this server never grants.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)
from wsproto.utilities import LocalProtocolError, RemoteProtocolError

from infra.resources import LiveSocket

CLOSE_GRACE_S = 2.0
MAX_MESSAGE = 128 * 1024  # API Gateway's frame limit is 32 KB, its message limit 128 KB


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _json(status: int, body: Any, error: str | None = None) -> tuple[int, dict[str, str], bytes]:
    headers = {"Content-Type": "application/json"}
    if error:
        headers["x-amzn-ErrorType"] = error
    return status, headers, json.dumps(body).encode()


class _Connection:
    """One open WebSocket: its wsproto state and socket, written by any thread under a lock."""

    def __init__(self, connection_id: str, ws: WSConnection, sock: socket.socket, ip: str) -> None:
        self.connection_id, self.ws, self.sock, self.ip = connection_id, ws, sock, ip
        self.user_agent = ""
        self.connected_at = self.last_active_at = _now_iso()
        self.lock = threading.Lock()
        self.closing = False

    def send(self, event: Any) -> None:
        with self.lock:
            self.sock.sendall(self.ws.send(event))

    def close(self, code: int = 1000, reason: str = "") -> None:
        with self.lock:
            if self.closing:
                return
            self.closing = True
            with contextlib.suppress(OSError, LocalProtocolError):
                self.sock.sendall(self.ws.send(CloseConnection(code=code, reason=reason)))
        # A client that never answers the close is cut off, as API Gateway does.
        threading.Timer(CLOSE_GRACE_S, self._shutdown).start()

    def _shutdown(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)


class LiveHub:
    """The local stand-in of the WebSocket API: its open connections, its routes' handler and
    its Management API."""

    def __init__(
        self,
        spec: LiveSocket,
        handler: Callable[[dict, Any], Any] | None = None,
        domain: str = "127.0.0.1",
    ) -> None:
        self.spec, self.domain = spec, domain
        self._handler = handler
        self._lock = threading.Lock()
        self.connections: dict[str, _Connection] = {}

    @property
    def handler(self) -> Callable[[dict, Any], Any]:
        if self._handler is None:
            from infra.local.workers import load_handler  # noqa: PLC0415

            self._handler = load_handler(self.spec.handler)
        return self._handler

    # -- the WebSocket API --------------------------------------------------------------------

    def _event(self, route: str, conn_id: str, ip: str, **extra: Any) -> dict[str, Any]:
        at = int(time.time() * 1000)
        event_type = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE")
        return {
            "requestContext": {
                "routeKey": route,
                "eventType": event_type,
                "connectionId": conn_id,
                "domainName": self.domain,
                "stage": self.spec.stage,
                "apiId": "local",
                "requestTimeEpoch": at,
                "connectedAt": at,
                "identity": {"sourceIp": ip},
            },
            "isBase64Encoded": False,
            **extra,
        }

    def _invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        from infra.local.workers import FakeLambdaContext  # noqa: PLC0415

        try:
            return self.handler(event, FakeLambdaContext("live-socket")) or {}
        except Exception:  # noqa: BLE001 - API Gateway answers 500 for a crashed integration
            return {"statusCode": 500}

    def serve(
        self, request_line: str, headers: list[tuple[str, str]], rfile: Any, sock: Any
    ) -> None:
        """Run one WebSocket connection to its end on the calling (HTTP server) thread."""
        ws = WSConnection(ConnectionType.SERVER)
        raw = request_line + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
        ws.receive_data(raw.encode("latin-1"))
        request = next((e for e in ws.events() if isinstance(e, Request)), None)
        ip = sock.getpeername()[0]
        if request is None:
            return
        conn_id = secrets.token_urlsafe(12) + "="
        query = parse_qs(urlsplit(request.target).query)
        connect = self._event(
            "$connect",
            conn_id,
            ip,
            queryStringParameters={k: v[-1] for k, v in query.items()} or None,
            headers={k: v for k, v in headers},
        )
        conn = _Connection(conn_id, ws, sock, ip)
        conn.user_agent = next((v for k, v in headers if k.lower() == "user-agent"), "")
        # Registered before $connect returns, as on AWS (a post during $connect still fails:
        # the handshake is not accepted yet, see post()).
        with self._lock:
            self.connections[conn_id] = conn
        accepted = False
        try:
            answer = self._invoke(connect)
            status = int(answer.get("statusCode") or 500)
            if not 200 <= status < 300:
                body = str(answer.get("body") or "Forbidden").encode()
                out = ws.send(
                    RejectConnection(
                        status_code=status,
                        headers=[
                            (b"content-type", b"text/plain"),
                            (b"content-length", b"%d" % len(body)),
                        ],
                        has_body=True,
                    )
                )
                sock.sendall(out + ws.send(RejectData(data=body)))
                return
            with conn.lock:
                sock.sendall(ws.send(AcceptConnection()))
                accepted = True
            self._read(conn, rfile)
        except OSError:
            pass
        finally:
            with self._lock:
                self.connections.pop(conn_id, None)
            if accepted:
                self._invoke(self._event("$disconnect", conn_id, ip))

    def _read(self, conn: _Connection, rfile: Any) -> None:
        parts: list[str] = []
        size = 0
        while True:
            data = rfile.read1(65536)
            with conn.lock:
                try:
                    conn.ws.receive_data(data or None)
                    events = list(conn.ws.events())
                except RemoteProtocolError:
                    return
            for ev in events:
                if isinstance(ev, CloseConnection):
                    with conn.lock, contextlib.suppress(OSError, LocalProtocolError):
                        conn.sock.sendall(conn.ws.send(ev.response()))
                    return
                if isinstance(ev, Ping):
                    conn.send(ev.response())
                elif isinstance(ev, TextMessage | BytesMessage):
                    chunk = (
                        ev.data if isinstance(ev.data, str) else ev.data.decode("utf-8", "replace")
                    )
                    parts.append(chunk)
                    size += len(chunk)
                    if size > MAX_MESSAGE:
                        conn.close(1009, "Message too big")
                        return
                    if ev.message_finished:
                        self._message(conn, "".join(parts))
                        parts, size = [], 0
            if not data:
                return

    def _message(self, conn: _Connection, body: str) -> None:
        conn.last_active_at = _now_iso()
        answer = self._invoke(self._event("$default", conn.connection_id, conn.ip, body=body))
        if answer.get("body") and "$default" in self.spec.routes_with_response:
            conn.send(TextMessage(data=str(answer["body"])))

    # -- the Management API -------------------------------------------------------------------

    def covers(self, path: str) -> bool:
        return urlsplit(path).path.startswith(self.spec.local_management_path + "/@connections/")

    def manage(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        if not auth.startswith("AWS4-HMAC-SHA256 "):
            return _json(403, {"message": "Missing Authentication Token"}, "ForbiddenException")
        prefix = self.spec.local_management_path + "/@connections/"
        conn_id = unquote(urlsplit(path).path[len(prefix) :])
        with self._lock:
            conn = self.connections.get(conn_id)
        accepted = conn is not None and conn.ws.state.name == "OPEN" and not conn.closing
        if conn is None or not accepted:
            return _json(410, {"message": None}, "GoneException")
        if method == "POST":
            if len(body) > MAX_MESSAGE:
                return _json(413, {"message": "Message too long"}, "PayloadTooLargeException")
            try:
                conn.send(TextMessage(data=body.decode("utf-8", "replace")))
            except (OSError, LocalProtocolError):
                return _json(410, {"message": None}, "GoneException")
            return 200, {}, b""
        if method == "DELETE":
            conn.close()
            return 204, {}, b""
        if method == "GET":
            return _json(
                200,
                {
                    "ConnectedAt": conn.connected_at,
                    "Identity": {"SourceIp": conn.ip, "UserAgent": conn.user_agent},
                    "LastActiveAt": conn.last_active_at,
                },
            )
        return _json(405, {"message": "Method not allowed"}, "BadRequestException")
