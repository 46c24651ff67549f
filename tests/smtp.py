"""A real SMTP server on 127.0.0.1 (aiosmtpd, in a thread) for tests of e-mails, and Django set to use it.

from tests.smtp import smtp_server  # noqa: F401   (in a conftest.py or test module)

def test_…(smtp_server):
    …  # send
    message = smtp_server.wait_for_message(to="buyer@example.com")
"""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from countermand.devtools.tryton_server import free_port
from tests.waiting import wait_until


class MailBox:
    """What the SMTP server received, parsed."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd's handler hook
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if address in str(m["To"])]

    def wait_for_message(self, *, to: str, count: int = 1, timeout: float = 10) -> EmailMessage:
        """The `count`-th message to `to`, once it has arrived."""
        wait_until(lambda: len(self.to(to)) >= count, timeout=timeout, message=lambda: f"got {self.messages}")
        return self.to(to)[count - 1]


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[MailBox]:
    """An SMTP server on 127.0.0.1 that Django's e-mail back end sends to for the test."""
    box = MailBox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    try:
        yield box
    finally:
        controller.stop()


def body_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())
