import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def sign_in(client: Client, username: str, password: str):
    return client.post(
        reverse("admin:login"), {"username": username, "password": password, "next": "/admin/"}, follow=True
    )


def test_staff_signs_in_to_the_console():
    StaffFactory(username="clerk", password="right-password-1")
    response = sign_in(Client(), "clerk", "right-password-1")
    assert response.redirect_chain[-1][0] == "/admin/"


def test_a_buyer_cannot_sign_in_to_the_console():
    UserFactory(username="buyer@example.com", password="right-password-1")
    response = sign_in(Client(), "buyer@example.com", "right-password-1")
    assert "staff account" in response.content.decode()


def test_console_sign_in_is_throttled_after_repeated_failures():
    StaffFactory(username="clerk", password="right-password-1")
    client = Client()
    for _ in range(5):
        sign_in(client, "clerk", "wrong")
    response = sign_in(client, "clerk", "right-password-1")
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_console_sign_in_failures_from_another_address_do_not_lock_the_admin_out():
    StaffFactory(username="admin", password="right-password-1")
    attacker = Client(REMOTE_ADDR="203.0.113.66")
    for _ in range(5):
        sign_in(attacker, "admin", "wrong")
    assert "Too many failed sign-ins" in sign_in(attacker, "admin", "right-password-1").content.decode()
    admin_client = Client(REMOTE_ADDR="10.0.0.5")
    sign_in(admin_client, "admin", "right-password-1")
    assert "_auth_user_id" in admin_client.session
