import datetime
import hashlib

import pytest
from django.test import Client
from django.utils import timezone

from countermand.accounts.models import ApiToken, LoginFailure
from countermand.accounts.services import (
    MAX_FAILURES_PER_ADDRESS,
    MAX_FAILURES_PER_USERNAME,
    MAX_FAILURES_PER_USERNAME_AND_ADDRESS,
    token_issue,
)
from tests.factories import UserFactory

TOKEN_URL = "/api/v1/auth/token"


def sign_in(client: Client, username: str, password: str, **extra):
    return client.post(
        TOKEN_URL, {"username": username, "password": password}, content_type="application/json", **extra
    )


@pytest.fixture
def user(db):
    return UserFactory(username="buyer@example.com", password="right-pass-1")


def test_token_is_issued_for_good_credentials_and_stored_only_as_its_hash(user):
    response = sign_in(Client(), "buyer@example.com", "right-pass-1")
    assert response.status_code == 201
    token = response.json()["token"]
    stored = ApiToken.objects.get(user=user)
    assert stored.key_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {stored.key_hash, stored.prefix}
    assert stored.expires_at > timezone.now() + datetime.timedelta(hours=11)
    assert response.json()["expiresAt"]


def test_bearer_token_authenticates_api_calls(user):
    token = sign_in(Client(), "buyer@example.com", "right-pass-1").json()["token"]
    response = Client().get("/api/v1/orderstatusmappings", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_token_request_without_password_is_400_with_field_errors(user):
    response = Client().post(TOKEN_URL, {"username": "x"}, content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "VALIDATION_FAILED"
    assert "password" in body["fields"]
    assert body["message"].startswith("password:")


def test_wrong_password_is_401_invalid_credentials_and_recorded(user):
    response = sign_in(Client(), "buyer@example.com", "wrong")
    assert response.status_code == 401
    assert response.json()["code"] == "INVALID_CREDENTIALS"
    assert LoginFailure.objects.filter(username="buyer@example.com").count() == 1


def test_sign_in_is_throttled_after_repeated_failures_even_with_the_right_password(user):
    client = Client()
    for _ in range(MAX_FAILURES_PER_USERNAME_AND_ADDRESS):
        assert sign_in(client, "Buyer@Example.com", "wrong").status_code == 401
    response = sign_in(client, "buyer@example.com", "right-pass-1")
    assert response.status_code == 429
    assert response.json()["code"] == "LOGIN_THROTTLED"
    assert 0 < int(response["Retry-After"]) <= 15 * 60 + 1
    assert response.json()["retryAfter"] == int(response["Retry-After"])


def test_throttling_ends_when_the_failures_leave_the_window(user):
    for _ in range(MAX_FAILURES_PER_USERNAME_AND_ADDRESS):
        sign_in(Client(), "buyer@example.com", "wrong")
    LoginFailure.objects.update(failed_at=timezone.now() - datetime.timedelta(minutes=16))
    assert sign_in(Client(), "buyer@example.com", "right-pass-1").status_code == 201


def test_many_user_names_from_one_address_are_throttled_by_address(user):
    for n in range(MAX_FAILURES_PER_ADDRESS):
        sign_in(Client(), f"guess{n}@example.com", "wrong", REMOTE_ADDR="10.9.9.9")
    assert sign_in(Client(), "buyer@example.com", "right-pass-1", REMOTE_ADDR="10.9.9.9").status_code == 429
    assert sign_in(Client(), "buyer@example.com", "right-pass-1", REMOTE_ADDR="10.9.9.10").status_code == 201


def test_a_successful_sign_in_clears_the_failures_of_its_name_and_address_only(user):
    for _ in range(MAX_FAILURES_PER_USERNAME_AND_ADDRESS - 1):
        sign_in(Client(), "buyer@example.com", "wrong")
    sign_in(Client(), "buyer@example.com", "wrong", REMOTE_ADDR="10.1.1.1")
    assert sign_in(Client(), "buyer@example.com", "right-pass-1").status_code == 201
    assert list(LoginFailure.objects.filter(username="buyer@example.com").values_list("ip_address", flat=True)) == [
        "10.1.1.1"
    ]


def test_failures_from_one_address_do_not_lock_the_name_out_from_another(user):
    for _ in range(MAX_FAILURES_PER_USERNAME_AND_ADDRESS):
        sign_in(Client(), "buyer@example.com", "wrong", REMOTE_ADDR="203.0.113.66")
    assert sign_in(Client(), "buyer@example.com", "right-pass-1", REMOTE_ADDR="203.0.113.66").status_code == 429
    assert sign_in(Client(), "buyer@example.com", "right-pass-1", REMOTE_ADDR="10.0.0.5").status_code == 201


def test_failures_for_one_name_spread_over_many_addresses_hit_the_per_name_ceiling(user):
    for n in range(MAX_FAILURES_PER_USERNAME):
        address = f"198.51.100.{n // (MAX_FAILURES_PER_USERNAME_AND_ADDRESS - 1)}"
        assert sign_in(Client(), "buyer@example.com", "wrong", REMOTE_ADDR=address).status_code == 401
    response = sign_in(Client(), "buyer@example.com", "right-pass-1", REMOTE_ADDR="10.0.0.5")
    assert response.status_code == 429
    assert response.json()["code"] == "LOGIN_THROTTLED"


def test_the_per_name_ceiling_is_looser_than_the_per_name_and_address_limit():
    assert MAX_FAILURES_PER_USERNAME > MAX_FAILURES_PER_ADDRESS > MAX_FAILURES_PER_USERNAME_AND_ADDRESS


def test_inactive_user_gets_no_token(user):
    user.is_active = False
    user.save()
    assert sign_in(Client(), "buyer@example.com", "right-pass-1").status_code == 401


def test_expired_token_is_401_token_expired(user):
    raw, token = token_issue(user=user)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    response = Client().get("/api/v1/orderstatusmappings", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 401
    assert response.json()["code"] == "TOKEN_EXPIRED"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_unknown_or_malformed_token_is_401(user):
    for header in ("Bearer cm_nope", "Bearer", "Bearer a b"):
        response = Client().get("/api/v1/orderstatusmappings", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.json()["code"] == "TOKEN_INVALID"


def test_no_credentials_is_401_not_authenticated(db):
    response = Client().get("/api/v1/orders")
    assert response.status_code == 401
    assert response.json()["code"] == "NOT_AUTHENTICATED"


def test_signing_in_works_while_an_expired_token_is_still_sent(user):
    raw, token = token_issue(user=user)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    response = sign_in(Client(), "buyer@example.com", "right-pass-1", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 201


def test_delete_revokes_the_token_it_is_sent_with(user):
    raw, _ = token_issue(user=user)
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    assert client.delete(TOKEN_URL).status_code == 204
    assert client.get("/api/v1/orderstatusmappings").status_code == 401


def test_delete_without_a_token_is_401(db):
    assert Client().delete(TOKEN_URL).status_code == 401


def test_issuing_a_token_removes_the_users_expired_tokens(user):
    _, old = token_issue(user=user)
    ApiToken.objects.filter(pk=old.pk).update(expires_at=timezone.now() - datetime.timedelta(days=1))
    token_issue(user=user)
    assert not ApiToken.objects.filter(pk=old.pk).exists()
