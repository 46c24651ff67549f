"""A real webhook receiver on 127.0.0.1 that checks Standard Webhooks signatures as a subscriber would.

Every request is kept with its raw body, headers and verdict. A signature is checked twice, independently:
by the ten lines of `signature_valid` (the verification snippet of docs/webhooks.md) and by the
`standardwebhooks` package a Python receiver would use; both must accept it. `fail_status` answers every
request with that status; `stop()` takes the receiver down (connections refused) and `start()` brings it
back on the same port; `delay` holds each answer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

TOLERANCE_SECONDS = 300


def signature_valid(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The receiver's check (docs/webhooks.md): HMAC-SHA256 of "id.timestamp.body" with the secret's bytes."""
    msg_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    expected = base64.b64encode(digest).decode()
    return any(
        hmac.compare_digest(signature.removeprefix("v1,"), expected)
        for signature in headers["webhook-signature"].split(" ")
        if signature.startswith("v1,")
    )


@dataclass
class Received:
    webhook_id: str
    headers: dict[str, str]
    raw: bytes
    body: Any
    valid: bool  # by signature_valid
    library_valid: bool  # by the standardwebhooks package
    answered: int


class WebhookReceiver:
    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.lock = threading.Lock()
        self.received: list[Received] = []
        self.fail_status = 0
        self.delay = 0.0
        self.port = 0
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> WebhookReceiver:
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # --- what arrived

    def accepted(self) -> list[Received]:
        """The requests answered 2xx, in arrival order."""
        with self.lock:
            return [r for r in self.received if 200 <= r.answered < 300]

    def ids(self) -> Counter[str]:
        """How often each webhook-id was accepted (a receiver deduplicating on it keeps one of each)."""
        return Counter(r.webhook_id for r in self.accepted())

    def unique(self) -> list[Received]:
        """The accepted requests deduplicated on webhook-id, as a receiver keeps them: first arrival wins."""
        seen: dict[str, Received] = {}
        for r in self.accepted():
            seen.setdefault(r.webhook_id, r)
        return list(seen.values())

    def types(self) -> Counter[str]:
        return Counter(r.body["type"] for r in self.unique())

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    valid = signature_valid(receiver.secret, headers, raw)
                except (KeyError, ValueError):
                    valid = False
                try:
                    Webhook(receiver.secret).verify(raw, headers)
                    library_valid = True
                except WebhookVerificationError:
                    library_valid = False
                if receiver.delay:
                    time.sleep(receiver.delay)
                status = receiver.fail_status or (204 if valid and library_valid else 401)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                with receiver.lock:
                    receiver.received.append(
                        Received(headers.get("webhook-id", ""), headers, raw, body, valid, library_valid, status)
                    )
                answer = b"" if status == 204 else json.dumps({"status": status}).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:
                    pass  # the sender gave up meanwhile

        return Handler
