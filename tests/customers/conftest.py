"""Fixtures of the customers tests."""

from tests.smtp import smtp_server  # noqa: F401  (a real SMTP server on 127.0.0.1)
