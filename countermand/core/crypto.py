"""Encryption of secrets at rest (connection passwords) with keys derived from COUNTERMAND_SECRET_KEY.

New secrets are encrypted with the current key (`SECRET_KEY`); stored ones are read with it or with any key
of `SECRET_KEY_FALLBACKS` (`COUNTERMAND_SECRET_KEY_FALLBACKS`, comma-separated), so a key can be rotated
without losing the ERP passwords: set the new key, list the old one as a fallback, run
`countermand manage secrets_reencrypt`, then drop the fallback.

Production mode (`COUNTERMAND_DEBUG` off) refuses to start without a key of its own (`secret_key_require`):
the built-in development key is public, and it would encrypt the stored ERP passwords.
"""

from __future__ import annotations

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# The key of development and demo runs; public, so never the key of a production server.
DEVELOPMENT_SECRET_KEY = "countermand-insecure-development-key-change-me"
SECRET_KEY_MISSING = (
    "COUNTERMAND_SECRET_KEY is not set. In production mode (COUNTERMAND_DEBUG off) Countermand refuses to start "
    "with the built-in development key: it is public, and it encrypts the stored ERP passwords. Make a key with\n"
    "    python3 -c 'import secrets; print(secrets.token_urlsafe(50))'\n"
    "and set COUNTERMAND_SECRET_KEY to it (keep it secret and keep it: stored passwords need it). "
    "`countermand serve --demo` runs without one; COUNTERMAND_DEBUG=1 allows the development key too."
)


def secret_key_require() -> None:
    """Refuse to start a production server (web, worker) without COUNTERMAND_SECRET_KEY: raises
    ImproperlyConfigured with how to make a key. Development (`DEBUG`) may run on the built-in key, and so may
    `serve --demo`, which hands it to its children explicitly."""
    if not settings.DEBUG and not getattr(settings, "COUNTERMAND_SECRET_KEY_SET", True):
        raise ImproperlyConfigured(SECRET_KEY_MISSING)


@functools.cache
def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"countermand", info=b"connection-secrets").derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def _keys() -> MultiFernet:
    """The current key first (it encrypts), then the fallbacks (they only decrypt)."""
    fallbacks = [key for key in getattr(settings, "SECRET_KEY_FALLBACKS", []) if key and key != settings.SECRET_KEY]
    return MultiFernet([_fernet(settings.SECRET_KEY), *(_fernet(key) for key in fallbacks)])


def encrypt_secret(plaintext: str) -> str:
    if not plaintext:
        return ""
    return _fernet(settings.SECRET_KEY).encrypt(plaintext.encode()).decode()


_UNREADABLE = (
    "a stored password cannot be decrypted: COUNTERMAND_SECRET_KEY changed since it was saved and the old key is "
    "not in COUNTERMAND_SECRET_KEY_FALLBACKS; enter the connection's password again"
)


def decrypt_secret(token: str) -> str:
    """Decrypt a stored secret with the current key or a fallback. Raises ValueError when none of them
    encrypted it."""
    if not token:
        return ""
    try:
        return _keys().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError(_UNREADABLE) from exc


def secret_reencrypt(token: str) -> str:
    """`token` encrypted again with the current key (read with the current key or a fallback); "" stays "".
    Raises ValueError when no key reads it."""
    if not token:
        return ""
    try:
        return _keys().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError(_UNREADABLE) from exc
