"""Invitations and password resets: one-time, expiring links sent by e-mail (Django's token machinery).

A link carries the user's id (base64) and a token from a `PasswordResetTokenGenerator`. The token is a
keyed hash of the user's password hash, last sign-in and a timestamp: it stops working once the password
is set (or the user signs in) — so it works once — and after `PASSWORD_RESET_TIMEOUT` seconds (Django's
default: 3 days). Invitation and reset tokens use different keys, so one cannot stand in for the other.

The storefront's pages for both are Django's `PasswordResetConfirmView` with the matching generator
(countermand/storefront/urls.py). E-mails go out through Django's e-mail back end (SMTP when
`COUNTERMAND_EMAIL_HOST` is set) and never inside a database transaction: senders call these functions
after commit (`transaction.on_commit`).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.core.mail import send_mail
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    """Tokens of invitation links: a reset token's machinery under another key."""

    key_salt = "countermand.accounts.invitations.InvitationTokenGenerator"


invitation_token_generator = InvitationTokenGenerator()
password_reset_token_generator = default_token_generator  # what Django's password reset views check


def invitation_link(*, user: Any, base_url: str) -> str:
    """The absolute link of a new invitation for `user` (base_url: e.g. https://shop.example.com)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = invitation_token_generator.make_token(user)
    return base_url.rstrip("/") + reverse("storefront:invitation", args=[uid, token])


def invitation_email_send(*, user: Any, base_url: str, customer_name: str) -> None:
    """Send `user` an invitation e-mail with a fresh one-time link to set their password.

    Call it outside any transaction (after commit): it talks to the mail server."""
    link = invitation_link(user=user, base_url=base_url)
    hours = settings.PASSWORD_RESET_TIMEOUT // 3600
    send_mail(
        subject=f"Your account for ordering online as {customer_name}",
        message=(
            f"Hello,\n\nan account has been created for you ({user.email}) to follow and cancel the orders of "
            f"{customer_name} online.\n\nChoose your password here (the link works once, for {hours} hours):\n"
            f"{link}\n\nThen sign in with your e-mail address and that password.\n"
        ),
        from_email=None,
        recipient_list=[user.email],
    )
