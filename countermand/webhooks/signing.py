"""Standard Webhooks signatures (https://www.standardwebhooks.com/): `webhook-id`, `webhook-timestamp` and
`webhook-signature` (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, space-separated when two secrets
sign during a rotation's overlap). The HMAC itself is the `standardwebhooks` package's (MIT, no
dependencies, the reference implementation of the specification), so receivers using any Standard
Webhooks library verify us without surprises.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import secrets
from typing import Any

from standardwebhooks import Webhook

from countermand.core.errors import ValidationFailed

SECRET_PREFIX = "whsec_"
SECRET_MIN_BYTES, SECRET_MAX_BYTES = 24, 64


class InvalidWebhookSecret(ValidationFailed):
    code = "INVALID_WEBHOOK_SECRET"


def secret_generate() -> str:
    """A fresh signing secret in the Standard Webhooks form: `whsec_` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_check(secret: str) -> str:
    """The secret, if it is `whsec_` + base64 of 24 to 64 bytes. Raises InvalidWebhookSecret (which never
    repeats the value)."""
    problem = f"A signing secret is {SECRET_PREFIX} followed by the base64 of {SECRET_MIN_BYTES} to {SECRET_MAX_BYTES} "
    problem += "random bytes, e.g. whsec_ + base64 of 32 bytes from a secure random source."
    if not isinstance(secret, str) or not secret.startswith(SECRET_PREFIX):
        raise InvalidWebhookSecret(problem, field="secret")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise InvalidWebhookSecret(problem, field="secret") from None
    if not SECRET_MIN_BYTES <= len(key) <= SECRET_MAX_BYTES:
        raise InvalidWebhookSecret(problem, field="secret")
    return secret


def body_bytes(payload: dict[str, Any]) -> bytes:
    """The body as sent and signed: compact JSON, UTF-8."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode()


def signed_headers(*, message_id: str, body: bytes, secrets_: list[str], now: datetime.datetime) -> dict[str, str]:
    """The Standard Webhooks headers for `body`, signed with every secret in `secrets_` (current first)."""
    signatures = [Webhook(secret).sign(message_id, now, body) for secret in secrets_]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": " ".join(signatures),
        "content-type": "application/json",
    }
