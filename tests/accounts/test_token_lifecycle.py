"""API tokens end when the password changes or the user is deactivated; staff revoke them by command."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import Client

from countermand.accounts.models import ApiToken
from countermand.accounts.services import token_issue, user_tokens_revoke
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    return UserFactory(username="buyer@example.com", password="right-pass-1")


def api_status(raw: str) -> int:
    return Client().get("/api/v1/orderstatusmappings", headers={"Authorization": f"Bearer {raw}"}).status_code


def test_a_password_change_revokes_the_users_tokens(user):
    raw, _ = token_issue(user=user)
    assert api_status(raw) == 200
    user.set_password("new-pass-2")
    user.save()
    assert not ApiToken.objects.filter(user=user).exists()
    assert api_status(raw) == 401


def test_deactivating_a_user_revokes_their_tokens(user):
    token_issue(user=user)
    user.is_active = False
    user.save()
    assert not ApiToken.objects.filter(user=user).exists()


def test_other_saves_keep_the_tokens(user):
    raw, _ = token_issue(user=user)
    user.first_name = "Pat"
    user.save()
    assert api_status(raw) == 200


def test_a_password_hash_upgrade_at_sign_in_keeps_the_tokens(user, settings):
    raw, _ = token_issue(user=user)
    # Signing in with a newer preferred hasher re-hashes the same password: not a change.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    assert authenticate(username="buyer@example.com", password="right-pass-1") is not None
    user.refresh_from_db()
    assert user.password.startswith("pbkdf2_")
    assert api_status(raw) == 200


def test_user_tokens_revoke_revokes_one_users_tokens_only(user):
    other = UserFactory(username="other@example.com")
    token_issue(user=user)
    token_issue(user=user)
    token_issue(user=other)
    assert user_tokens_revoke(user_id=user.pk) == 2
    assert ApiToken.objects.filter(user=other).count() == 1


def test_the_revoke_tokens_command_lists_and_revokes_a_users_tokens(user):
    _, token = token_issue(user=user)
    out = StringIO()
    call_command("revoke_tokens", "buyer@example.com", stdout=out)
    assert token.prefix in out.getvalue()
    assert "Revoked 1 API token(s) of buyer@example.com." in out.getvalue()
    assert not ApiToken.objects.filter(user=user).exists()


def test_the_revoke_tokens_command_with_list_only_lists(user):
    token_issue(user=user)
    out = StringIO()
    call_command("revoke_tokens", "buyer@example.com", "--list", stdout=out)
    assert "has 1 API token(s)" in out.getvalue()
    assert ApiToken.objects.filter(user=user).count() == 1


def test_the_revoke_tokens_command_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="no user 'nobody'"):
        call_command("revoke_tokens", "nobody")
