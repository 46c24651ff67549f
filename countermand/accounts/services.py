"""Signing in for the API and the storefront: login throttling and bearer tokens.

Tokens: `POST /api/v1/auth/token` issues `cm_<random>`; the database keeps only its SHA-256 and an expiry.
Throttling (every sign-in path: storefront, Admin Console, API token): failed sign-ins are counted over a
sliding window per (user name, client address), per user name from all addresses (a looser ceiling), and
per address for all names; past a limit every attempt is refused with 429 — without checking the password —
until the window has passed. Counting the tight limit per (name, address) means someone guessing `admin`'s
password from one address locks out that address, not `admin` signing in from their own; the per-name
ceiling still stops a guess spread over many addresses. A successful sign-in clears the failures of its
(name, address).
Password-reset requests (the storefront's *Forgot your password?*) go through the same machinery as their
own purpose: every request counts, per (e-mail, address), per e-mail and per address, with lower limits —
so a flood of reset e-mails to one address, or from one client, stops, and sign-ins are not affected.
The REST API's `Authorization: Bearer` scheme is countermand/api/authentication.py.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.db.models import Count, Min, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from countermand.accounts.models import ApiToken, LoginFailure
from countermand.core.errors import DomainError

TOKEN_PREFIX = "cm_"
TOKEN_LIFETIME = datetime.timedelta(hours=getattr(settings, "API_TOKEN_LIFETIME_HOURS", 12))
LAST_USED_PRECISION = datetime.timedelta(minutes=5)

FAILURE_WINDOW = datetime.timedelta(minutes=15)
MAX_FAILURES_PER_USERNAME_AND_ADDRESS = 5
MAX_FAILURES_PER_USERNAME = 50  # from all addresses together: takes at least three addresses (see below)
MAX_FAILURES_PER_ADDRESS = 20

MAX_RESETS_PER_EMAIL_AND_ADDRESS = 3
MAX_RESETS_PER_EMAIL = 10
MAX_RESETS_PER_ADDRESS = 20

Purpose = LoginFailure.Purpose


@dataclass(frozen=True)
class ThrottleLimits:
    """How many attempts of one purpose the window allows, and what a refusal says."""

    per_username_and_address: int
    per_username: int
    per_address: int
    refusal: str  # "Too many …", completed with when to try again


THROTTLE_LIMITS = {
    Purpose.SIGN_IN: ThrottleLimits(
        MAX_FAILURES_PER_USERNAME_AND_ADDRESS, MAX_FAILURES_PER_USERNAME, MAX_FAILURES_PER_ADDRESS, "failed sign-ins"
    ),
    Purpose.PASSWORD_RESET: ThrottleLimits(
        MAX_RESETS_PER_EMAIL_AND_ADDRESS, MAX_RESETS_PER_EMAIL, MAX_RESETS_PER_ADDRESS, "password reset requests"
    ),
}


class LoginThrottled(DomainError):
    code = "LOGIN_THROTTLED"
    http_status = 429


class InvalidCredentials(DomainError):
    code = "INVALID_CREDENTIALS"
    http_status = 401


class TokenRejected(DomainError):
    """A bearer token that does not sign anyone in: `code` says why (TOKEN_INVALID, TOKEN_EXPIRED, USER_INACTIVE)."""

    code = "TOKEN_INVALID"
    http_status = 401


def client_address(request: HttpRequest | None) -> str | None:
    """The peer address. X-Forwarded-For is not trusted: any client can send it."""
    return (request.META.get("REMOTE_ADDR") or None) if request is not None else None


def _normalise(username: str) -> str:
    return (username or "").strip().lower()[:150]


def _from_address(failures: QuerySet[LoginFailure], ip_address: str | None) -> QuerySet[LoginFailure]:
    return failures.filter(ip_address=ip_address) if ip_address else failures.filter(ip_address__isnull=True)


def login_throttle_check(*, username: str, ip_address: str | None, purpose: Purpose = Purpose.SIGN_IN) -> None:
    """Raise LoginThrottled when the (user name, address), the user name or the address has failed too often lately.

    Refused attempts are not recorded, so a count never passes its limit and the block ends exactly
    when the oldest counted failure leaves the window.
    """
    now = timezone.now()
    limits = THROTTLE_LIMITS[purpose]
    recent = LoginFailure.objects.filter(failed_at__gte=now - FAILURE_WINDOW, purpose=purpose)
    by_name = recent.filter(username=_normalise(username))
    checks = [
        (_from_address(by_name, ip_address), limits.per_username_and_address),
        (by_name, limits.per_username),
    ]
    if ip_address:
        checks.append((recent.filter(ip_address=ip_address), limits.per_address))
    for failures, limit in checks:
        stats = failures.aggregate(count=Count("id"), oldest=Min("failed_at"))
        if stats["count"] >= limit:
            retry_after = max(1, int((stats["oldest"] + FAILURE_WINDOW - now).total_seconds()) + 1)
            minutes = (retry_after + 59) // 60
            raise LoginThrottled(
                f"Too many {limits.refusal}. Try again in {minutes} minute{'s' if minutes != 1 else ''}.",
                retryAfter=retry_after,
            )


def login_failure_record(*, username: str, ip_address: str | None, purpose: Purpose = Purpose.SIGN_IN) -> None:
    LoginFailure.objects.create(username=_normalise(username), ip_address=ip_address, purpose=purpose)
    # Keep the table small: nothing older than the window is ever read.
    LoginFailure.objects.filter(failed_at__lt=timezone.now() - 2 * FAILURE_WINDOW).delete()


def login_success_record(*, username: str, ip_address: str | None) -> None:
    """Clear the failures of this (name, address); those from other addresses still count toward the ceiling."""
    failures = LoginFailure.objects.filter(username=_normalise(username), purpose=Purpose.SIGN_IN)
    _from_address(failures, ip_address).delete()


def password_reset_request_count(*, request: HttpRequest | None, email: str) -> None:
    """Count one password-reset request for `email` from the request's address; raises LoginThrottled,
    without counting, once the (e-mail, address), the e-mail or the address has asked too often lately.

    Called for every request, whether an account has the address or not, so the answer tells nothing."""
    ip_address = client_address(request)
    login_throttle_check(username=email, ip_address=ip_address, purpose=Purpose.PASSWORD_RESET)
    login_failure_record(username=email, ip_address=ip_address, purpose=Purpose.PASSWORD_RESET)


def credentials_check(*, request: HttpRequest | None, username: str, password: str) -> Any:
    """The active user with these credentials, throttled. Raises LoginThrottled or InvalidCredentials."""
    ip_address = client_address(request)
    login_throttle_check(username=username, ip_address=ip_address)
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        login_failure_record(username=username, ip_address=ip_address)
        raise InvalidCredentials("The user name or password is not correct.")
    login_success_record(username=username, ip_address=ip_address)
    return user


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_issue(*, user: Any) -> tuple[str, ApiToken]:
    """A new token for `user`: returns the token (shown once) and its stored record."""
    now = timezone.now()
    ApiToken.objects.filter(user=user, expires_at__lt=now).delete()
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, key_hash=_hash(raw), prefix=raw[: len(TOKEN_PREFIX) + 6], expires_at=now + TOKEN_LIFETIME
    )
    return raw, token


def token_authenticate(raw: str) -> ApiToken:
    """The live token record for `raw`. Raises TokenRejected (unknown, expired, inactive user)."""
    token = ApiToken.objects.select_related("user").filter(key_hash=_hash(raw)).first()
    if token is None:
        raise TokenRejected("The token is not valid.", code="TOKEN_INVALID")
    now = timezone.now()
    if token.expires_at <= now:
        raise TokenRejected("The token has expired; request a new one.", code="TOKEN_EXPIRED")
    if not token.user.is_active:
        raise TokenRejected("The user is inactive.", code="USER_INACTIVE")
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk).delete()


def user_tokens_revoke(*, user_id: int) -> int:
    """Revoke every API token of a user (password changed, deactivated, or on a staff member's request).

    Returns how many were revoked; a client holding one gets 401 TOKEN_INVALID from then on.
    """
    deleted, _ = ApiToken.objects.filter(user_id=user_id).delete()
    return deleted


def user_saved_tokens_revoke(*, user: Any) -> int:
    """After a user is saved: revoke their tokens when the password was changed or the user is inactive.

    "Changed" is Django's own notion (the one that calls the password validators' `password_changed`):
    `set_password()` was called since the last save. A hash upgrade at sign-in (Django re-hashing the
    same password with newer parameters) is not a change and keeps the tokens.
    """
    if getattr(user, "_password", None) is not None or not user.is_active:
        return user_tokens_revoke(user_id=user.pk)
    return 0
