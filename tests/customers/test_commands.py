"""`countermand buyer …` and `countermand customer …`, run as the CLI runs them."""

from __future__ import annotations

import io
import re
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from countermand.customers.models import BuyerAccount, Customer
from tests.factories import BuyerAccountFactory, CustomerFactory, WebsiteFactory
from tests.smtp import body_of

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_buyer_add_creates_the_buyer_of_the_customer_on_the_websites(db):
    CustomerFactory(customer_number="C1000", name="Acme")
    store, counter = WebsiteFactory(name="Demo Store"), WebsiteFactory(name="Trade Counter")

    out = run(
        "buyer", "add", "Jo@Example.com", "--customer", "C1000", "--website", "Demo Store", "--website", "Trade Counter"
    )

    account = BuyerAccount.objects.get(user__email="jo@example.com")
    assert account.customer.customer_number == "C1000"
    assert set(account.websites.all()) == {store, counter}
    assert "Buyer jo@example.com" in out
    assert "jo@example.com" in run("buyer", "list", "--customer", "C1000")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--customer", "C9999", "--website", "Demo Store"), "There is no customer 'C9999'"),
        (("--customer", "C1000", "--website", "Nowhere"), "There is no website 'Nowhere'; known: Demo Store"),
    ],
)
def test_buyer_add_refuses_an_unknown_customer_or_website_and_creates_nothing(db, args, message):
    CustomerFactory(customer_number="C1000")
    WebsiteFactory(name="Demo Store")

    with pytest.raises(CommandError, match=message):
        run("buyer", "add", "jo@example.com", *args)
    assert not BuyerAccount.objects.exists()


def test_buyer_add_twice_is_refused(db):
    CustomerFactory(customer_number="C1000")
    WebsiteFactory(name="Demo Store")
    run("buyer", "add", "jo@example.com", "--customer", "C1000", "--website", "Demo Store")

    with pytest.raises(CommandError, match=r"There is already a user jo@example\.com"):
        run("buyer", "add", "JO@example.com", "--customer", "C1000", "--website", "Demo Store")


def test_buyer_add_with_invite_emails_a_link_to_the_website(db, smtp_server, django_capture_on_commit_callbacks):
    CustomerFactory(customer_number="C1000", name="Acme")
    WebsiteFactory(name="Demo Store", domain="shop.example.com")

    with django_capture_on_commit_callbacks(execute=True):  # the e-mail goes out after commit
        out = run("buyer", "add", "jo@example.com", "--customer", "C1000", "--website", "Demo Store", "--invite")

    assert "Invitation sent to jo@example.com" in out
    message = smtp_server.wait_for_message(to="jo@example.com")
    assert re.search(r"http://shop\.example\.com/account/invitation/\S+/\S+/", body_of(message))
    assert BuyerAccount.objects.get(user__email="jo@example.com").invited_at is not None


def test_customer_list_shows_numbers_names_and_inactive_ones(db):
    CustomerFactory(customer_number="C1000", name="Acme")
    Customer.objects.create(customer_number="C2000", name="Globex", is_active=False)

    out = run("customer", "list")

    assert out.splitlines() == ["C1000            Acme", "C2000            Globex  (inactive)", "2 customer(s)."]
    assert run("customer", "list", "--inactive").splitlines()[0].startswith("C2000")


def test_customer_add_creates_a_customer_and_refuses_a_duplicate(db):
    run("customer", "add", "C3000", "Initech")

    assert Customer.objects.get(customer_number="C3000").name == "Initech"
    with pytest.raises(CommandError, match="There is already a customer C3000"):
        run("customer", "add", "C3000", "Initech")


def test_the_countermand_command_lists_buyer_and_customer_in_its_help():
    out = subprocess.run(
        [sys.executable, "-m", "countermand", "--help"], capture_output=True, text=True, check=True
    ).stdout

    assert "buyer add EMAIL --customer NUMBER --website NAME [--invite]" in out
    assert "customer list" in out


def test_buyer_list_says_when_the_buyers_customer_is_inactive(db):
    BuyerAccountFactory(
        customer=CustomerFactory(customer_number="C4040", is_active=False), user__username="x@example.com"
    )
    BuyerAccountFactory(customer=CustomerFactory(customer_number="C5050"), user__username="y@example.com")

    first, second = run("buyer", "list").splitlines()[:2]

    assert first.startswith("x@example.com")
    assert first.endswith("(active, customer inactive: cannot sign in)")
    assert second.startswith("y@example.com")
    assert second.endswith("(active)")
