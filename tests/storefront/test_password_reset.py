"""*Forgot your password?*: throttled per address and per e-mail, the same answer with or without an account,
and an invited buyer who never chose a password gets a set-password link too (through a real SMTP server)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from countermand.accounts.models import LoginFailure
from countermand.accounts.services import (
    MAX_FAILURES_PER_USERNAME_AND_ADDRESS,
    MAX_RESETS_PER_ADDRESS,
    MAX_RESETS_PER_EMAIL,
    MAX_RESETS_PER_EMAIL_AND_ADDRESS,
)
from countermand.customers.services import buyer_create
from tests.factories import BuyerAccountFactory, CustomerFactory, WebsiteFactory
from tests.smtp import body_of

pytestmark = pytest.mark.django_db
RESET_URL = "/account/password-reset/"
NEW_PASSWORD = "a-Long-new-password-7"


def ask_reset(client: Client, email: str, capture):
    with capture(execute=True):  # the invitation e-mail goes out after commit
        return client.post(RESET_URL, {"email": email})


@pytest.fixture
def buyer(db):
    account = BuyerAccountFactory(customer=CustomerFactory(), user__username="buyer@example.com")
    return account.user


def test_the_answer_is_the_same_page_with_or_without_an_account(buyer, smtp_server, django_capture_on_commit_callbacks):
    known = ask_reset(Client(), "buyer@example.com", django_capture_on_commit_callbacks)
    unknown = ask_reset(Client(), "nobody@example.com", django_capture_on_commit_callbacks)

    assert (
        (known.status_code, known["Location"])
        == (unknown.status_code, unknown["Location"])
        == (302, RESET_URL + "sent/")
    )
    smtp_server.wait_for_message(to="buyer@example.com")
    assert smtp_server.to("nobody@example.com") == []


def test_reset_requests_for_one_email_from_one_address_are_throttled(
    buyer, smtp_server, django_capture_on_commit_callbacks
):
    client = Client()
    for _ in range(MAX_RESETS_PER_EMAIL_AND_ADDRESS):
        assert ask_reset(client, "buyer@example.com", django_capture_on_commit_callbacks).status_code == 302

    refused = ask_reset(client, "buyer@example.com", django_capture_on_commit_callbacks)

    assert refused.status_code == 429
    assert "Too many password reset requests. Try again in 15 minutes." in refused.content.decode()
    smtp_server.wait_for_message(to="buyer@example.com", count=MAX_RESETS_PER_EMAIL_AND_ADDRESS)
    assert len(smtp_server.to("buyer@example.com")) == MAX_RESETS_PER_EMAIL_AND_ADDRESS


def test_throttling_an_unknown_email_answers_as_for_a_known_one(buyer, smtp_server, django_capture_on_commit_callbacks):
    answers = {}
    for email in ("buyer@example.com", "nobody@example.com"):
        client = Client()
        for _ in range(MAX_RESETS_PER_EMAIL_AND_ADDRESS):
            ask_reset(client, email, django_capture_on_commit_callbacks)
        answers[email] = ask_reset(client, email, django_capture_on_commit_callbacks).status_code
    assert answers == {"buyer@example.com": 429, "nobody@example.com": 429}


def test_reset_requests_for_one_email_from_many_addresses_are_throttled(
    buyer, smtp_server, django_capture_on_commit_callbacks
):
    for n in range(MAX_RESETS_PER_EMAIL):
        ask_reset(Client(REMOTE_ADDR=f"203.0.113.{n}"), "buyer@example.com", django_capture_on_commit_callbacks)

    refused = ask_reset(Client(REMOTE_ADDR="198.51.100.1"), "buyer@example.com", django_capture_on_commit_callbacks)

    assert refused.status_code == 429


def test_reset_requests_from_one_address_for_many_emails_are_throttled(
    db, smtp_server, django_capture_on_commit_callbacks
):
    client = Client(REMOTE_ADDR="203.0.113.9")
    for n in range(MAX_RESETS_PER_ADDRESS):
        ask_reset(client, f"someone{n}@example.com", django_capture_on_commit_callbacks)

    assert ask_reset(client, "another@example.com", django_capture_on_commit_callbacks).status_code == 429
    assert Client(REMOTE_ADDR="203.0.113.10").post(RESET_URL, {"email": "another@example.com"}).status_code == 302


def test_reset_requests_do_not_count_against_signing_in(buyer, smtp_server, django_capture_on_commit_callbacks):
    client = Client()
    for _ in range(MAX_RESETS_PER_EMAIL_AND_ADDRESS):
        ask_reset(client, "buyer@example.com", django_capture_on_commit_callbacks)
    for _ in range(MAX_FAILURES_PER_USERNAME_AND_ADDRESS - 1):
        client.post("/account/login/", {"username": "buyer@example.com", "password": "nope"})

    response = client.post("/account/login/", {"username": "buyer@example.com", "password": "secret-pass-1"})

    assert response.status_code == 302
    assert not LoginFailure.objects.filter(purpose=LoginFailure.Purpose.SIGN_IN).exists()  # cleared by the sign-in


def test_an_invited_buyer_without_a_password_gets_a_set_password_link(smtp_server, django_capture_on_commit_callbacks):
    customer = CustomerFactory(name="Acme Supplies")
    buyer_create(email="invitee@example.com", customer=customer, websites=[WebsiteFactory()])

    response = ask_reset(Client(), "Invitee@Example.com", django_capture_on_commit_callbacks)

    assert response["Location"] == RESET_URL + "sent/"
    message = smtp_server.wait_for_message(to="invitee@example.com")
    (link,) = re.findall(r"https?://\S+", body_of(message))
    assert link.startswith("http://testserver/account/invitation/")
    client = Client()
    page = client.get(link.removeprefix("http://testserver"), follow=True)
    done = client.post(
        page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True
    )
    assert "Your password is set" in done.content.decode()
    assert Client().login(username="invitee@example.com", password=NEW_PASSWORD)


@pytest.mark.parametrize("inactive", ["user", "customer"])
def test_an_inactive_invited_buyer_gets_no_link(inactive, smtp_server, django_capture_on_commit_callbacks):
    customer = CustomerFactory(is_active=inactive != "customer")
    buyer_create(
        email="invitee@example.com", customer=customer, websites=[WebsiteFactory()], is_active=inactive != "user"
    )
    BuyerAccountFactory(customer=CustomerFactory(), user__email="other@example.com")

    response = ask_reset(Client(), "invitee@example.com", django_capture_on_commit_callbacks)
    ask_reset(Client(), "other@example.com", django_capture_on_commit_callbacks)

    assert response["Location"] == RESET_URL + "sent/"
    smtp_server.wait_for_message(to="other@example.com")  # sent after the one to the invitee would have been
    assert smtp_server.to("invitee@example.com") == []
    assert not get_user_model().objects.get(username="invitee@example.com").has_usable_password()
