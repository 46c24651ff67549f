"""Fixtures of the API tests besides the shared world: the webhooks tests' real receivers and a real SMTP
server on 127.0.0.1."""

from tests.smtp import smtp_server  # noqa: F401
from tests.webhooks.conftest import receiver, receivers  # noqa: F401
