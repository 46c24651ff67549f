"""Fixtures of the API tests besides the shared world: the webhooks tests' real receivers."""

from tests.webhooks.conftest import receiver, receivers  # noqa: F401
