"""Encryption of secrets at rest (connection passwords) with a key derived from COUNTERMAND_SECRET_KEY."""

from __future__ import annotations

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


@functools.cache
def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"countermand", info=b"connection-secrets").derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_secret(plaintext: str) -> str:
    if not plaintext:
        return ""
    return _fernet(settings.SECRET_KEY).encrypt(plaintext.encode()).decode()


def decrypt_secret(token: str) -> str:
    """Decrypt a stored secret. Raises ValueError when the secret key changed since it was stored."""
    if not token:
        return ""
    try:
        return _fernet(settings.SECRET_KEY).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError(
            "a stored password cannot be decrypted: COUNTERMAND_SECRET_KEY changed since it was saved; "
            "enter the connection's password again"
        ) from exc
