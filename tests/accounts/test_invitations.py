"""Invitations and password resets through a real SMTP server on 127.0.0.1: the e-mails arrive, their
links set the password once, and stop working once used or expired."""

from __future__ import annotations

import re
import time

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from countermand.customers.services import buyer_create, buyer_invite
from tests.factories import BuyerAccountFactory, CustomerFactory, WebsiteFactory
from tests.smtp import body_of

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a-Long-new-password-7"


def link_in(message) -> str:
    (link,) = re.findall(r"https?://\S+", body_of(message))
    return link


def path_of(link: str) -> str:
    return re.sub(r"^https?://[^/]+", "", link)


def set_password(client: Client, link: str) -> tuple[int, str]:
    """Open the link and choose a password; the status and page of the answer."""
    page = client.get(path_of(link), follow=True)
    if b'name="new_password1"' not in page.content:
        return page.status_code, page.content.decode()
    done = client.post(
        page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True
    )
    return done.status_code, done.content.decode()


@pytest.fixture
def invited(smtp_server, django_capture_on_commit_callbacks):
    """A new buyer, invited: returns the account and the e-mail they received."""
    customer = CustomerFactory(customer_number="C1000", name="Acme Supplies")
    account = buyer_create(email="invitee@example.com", customer=customer, websites=[WebsiteFactory()])
    with django_capture_on_commit_callbacks(execute=True):
        buyer_invite(buyer_id=account.pk, base_url="http://shop.example.com/")
    return account, smtp_server.wait_for_message(to="invitee@example.com")


def test_the_invitation_arrives_and_its_link_sets_the_password_once(invited):
    _, message = invited
    link = link_in(message)
    assert "Acme Supplies" in message["Subject"]
    assert link.startswith("http://shop.example.com/account/invitation/")

    status, page = set_password(Client(), link)

    assert (status, "Your password is set" in page) == (200, True)
    assert Client().login(username="invitee@example.com", password=NEW_PASSWORD)
    status, page = set_password(Client(), link)
    assert "This link no longer works" in page


def test_the_invitation_link_expires(invited, settings):
    _, message = invited
    settings.PASSWORD_RESET_TIMEOUT = 1
    time.sleep(2.1)  # the token's timestamp has a resolution of one second

    _, page = set_password(Client(), link_in(message))

    assert "This link no longer works" in page
    assert not get_user_model().objects.get(username="invitee@example.com").has_usable_password()


def test_an_invitation_link_does_not_reset_a_password_and_a_reset_link_is_no_invitation(invited, smtp_server):
    _, message = invited
    uid_and_token = path_of(link_in(message)).removeprefix("/account/invitation/")

    page = Client().get("/account/password-reset/" + uid_and_token, follow=True)

    assert b"This link no longer works" in page.content


def test_a_password_reset_email_arrives_and_its_link_works_once(smtp_server):
    account = BuyerAccountFactory(customer=CustomerFactory(), user__email="buyer@example.com")
    account.user.set_password("old-password-1")
    account.user.save()

    sent = Client().post("/account/password-reset/", {"email": "buyer@example.com"}, follow=True)

    assert b"Check your e-mail" in sent.content
    link = link_in(smtp_server.wait_for_message(to="buyer@example.com"))
    _, page = set_password(Client(), link)
    assert "Your password is set" in page
    assert Client().login(username=account.user.username, password=NEW_PASSWORD)
    _, page = set_password(Client(), link)
    assert "This link no longer works" in page


def test_a_password_reset_link_expires(smtp_server, settings):
    account = BuyerAccountFactory(customer=CustomerFactory(), user__email="buyer@example.com")
    account.user.set_password("old-password-1")
    account.user.save()
    Client().post("/account/password-reset/", {"email": "buyer@example.com"})
    link = link_in(smtp_server.wait_for_message(to="buyer@example.com"))
    settings.PASSWORD_RESET_TIMEOUT = 1
    time.sleep(2.1)

    _, page = set_password(Client(), link)

    assert "This link no longer works" in page


def test_the_sign_in_page_links_to_the_password_reset(db):
    page = Client().get("/account/login/")

    assert b'href="/account/password-reset/"' in page.content
