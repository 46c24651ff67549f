"""Every change of customers and buyer accounts: one keyword-only function each, one transaction each.

Customers come from the ERP (the customer refresh: `customers_apply`, `customers_unlisted_deactivate`) or
are provisioned by an administrator (API, CLI, Admin Console: `customer_create`, `customer_update`). A
customer is never deleted here — its orders reference it — only deactivated.

A *buyer* is a storefront user with a buyer account: linked to one customer and one or more websites.
`buyer_create` makes both (the user signs in with the e-mail address, and has no usable password until
they accept an invitation, see `accounts.invitations`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from countermand.core.errors import Conflict, NotFound, ValidationFailed
from countermand.customers.models import BuyerAccount, Customer
from countermand.integration.plugin import ErpCustomer
from countermand.websites.models import Website

CUSTOMER_NUMBER_MAX = 50
CUSTOMER_NAME_MAX = 200


def _customer_number_checked(value: str) -> str:
    number = (value or "").strip()
    if not number:
        raise ValidationFailed("A customer needs a customer number.", code="INVALID_CUSTOMER", field="customerNumber")
    # The ERP's code as it is (inner spaces included); control characters would break lists and logs.
    if len(number) > CUSTOMER_NUMBER_MAX or not number.isprintable():
        raise ValidationFailed(
            f"A customer number has 1 to {CUSTOMER_NUMBER_MAX} printable characters, not {value!r}.",
            code="INVALID_CUSTOMER",
            field="customerNumber",
        )
    return number


def _name_checked(value: str) -> str:
    name = (value or "").strip()
    if not name or len(name) > CUSTOMER_NAME_MAX:
        raise ValidationFailed(
            f"A customer's name has 1 to {CUSTOMER_NAME_MAX} characters.", code="INVALID_CUSTOMER", field="name"
        )
    return name


def customer_create(*, customer_number: str, name: str, is_active: bool = True) -> Customer:
    """A new customer. The number must equal the ERP's code for the account (Tryton: the party code), or the
    order history refresh cannot match its orders. Raises ValidationFailed, Conflict (CUSTOMER_EXISTS)."""
    number = _customer_number_checked(customer_number)
    try:
        with transaction.atomic():
            return Customer.objects.create(customer_number=number, name=_name_checked(name), is_active=is_active)
    except IntegrityError as exc:
        raise Conflict(f"There is already a customer {number}.", code="CUSTOMER_EXISTS") from exc


def customer_update(*, customer_id: int, name: str | None = None, is_active: bool | None = None) -> Customer:
    """Rename, deactivate or reactivate a customer (its number is the ERP's and does not change)."""
    with transaction.atomic():
        customer = Customer.objects.select_for_update().filter(pk=customer_id).first()
        if customer is None:
            raise NotFound(f"There is no customer {customer_id}.", code="CUSTOMER_NOT_FOUND")
        if name is not None:
            customer.name = _name_checked(name)
        if is_active is not None:
            customer.is_active = is_active
        customer.save(update_fields=["name", "is_active"])
        return customer


@dataclass
class CustomerRefreshCounts:
    """What a customer refresh did."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    skipped: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _erp_values(customer: ErpCustomer) -> dict[str, Any]:
    return {
        "name": customer.name[:CUSTOMER_NAME_MAX],
        "is_active": customer.is_active,
        "addresses": [address.as_dict() for address in customer.addresses],
    }


def customers_apply(*, customers: Sequence[ErpCustomer], counts: CustomerRefreshCounts) -> list[str]:
    """Create and update our customers from one batch the ERP sent, in one transaction and three queries;
    unchanged customers are not written. Returns the numbers of the batch's valid customers (to tell
    those no longer listed). Records with a customer number we cannot store are counted as skipped."""
    valid: dict[str, ErpCustomer] = {}
    for erp_customer in customers:
        try:
            valid[_customer_number_checked(erp_customer.customer_number)] = erp_customer
        except ValidationFailed:
            counts.skipped += 1
    with transaction.atomic():
        existing = {
            c.customer_number: c for c in Customer.objects.select_for_update().filter(customer_number__in=valid)
        }
        new, changed = [], []
        for number, erp_customer in valid.items():
            values = _erp_values(erp_customer)
            ours = existing.get(number)
            if ours is None:
                new.append(Customer(customer_number=number, **values))
            elif any(getattr(ours, field) != value for field, value in values.items()):
                for field, value in values.items():
                    setattr(ours, field, value)
                changed.append(ours)
        Customer.objects.bulk_create(new)
        Customer.objects.bulk_update(changed, ["name", "is_active", "addresses"])
    counts.created += len(new)
    counts.updated += len(changed)
    counts.unchanged += len(valid) - len(new) - len(changed)
    return list(valid)


def customers_unlisted_deactivate(*, listed: Iterable[str]) -> list[str]:
    """Deactivate the active customers whose numbers are not in `listed` (the ERP no longer lists them).
    Never deletes: their orders stay. Returns the deactivated numbers."""
    listed = set(listed)
    with transaction.atomic():
        active = dict(Customer.objects.select_for_update().filter(is_active=True).values_list("customer_number", "pk"))
        gone = sorted(number for number in active if number not in listed)
        Customer.objects.filter(pk__in=[active[number] for number in gone]).update(is_active=False)
    return gone


# --------------------------------------------------------------------------
# Buyers
# --------------------------------------------------------------------------


def _email_checked(value: str) -> str:
    email = (value or "").strip().lower()
    try:
        validate_email(email)
    except DjangoValidationError:
        raise ValidationFailed(f"{value!r} is not an e-mail address.", code="INVALID_BUYER", field="email") from None
    return email


def _websites_checked(websites: Sequence[Website]) -> list[Website]:
    if not websites:
        raise ValidationFailed("A buyer shops on at least one website.", code="INVALID_BUYER", field="websiteIds")
    return list(websites)


def buyer_create(
    *, email: str, customer: Customer, websites: Sequence[Website], is_active: bool = True
) -> BuyerAccount:
    """A new storefront user (user name = e-mail address, no usable password yet) and their buyer account.
    Raises ValidationFailed, Conflict (BUYER_EXISTS) when a user has this e-mail address or user name."""
    email = _email_checked(email)
    websites = _websites_checked(websites)
    user_model = get_user_model()
    with transaction.atomic():
        if (
            user_model.objects.filter(username__iexact=email).exists()
            or user_model.objects.filter(email__iexact=email).exists()
        ):
            raise Conflict(f"There is already a user {email}.", code="BUYER_EXISTS")
        try:
            with transaction.atomic():
                user = user_model.objects.create_user(username=email, email=email, password=None, is_active=is_active)
        except IntegrityError as exc:  # lost a race with another create
            raise Conflict(f"There is already a user {email}.", code="BUYER_EXISTS") from exc
        account = BuyerAccount.objects.create(user=user, customer=customer)
        account.websites.set(websites)
    return account


def buyer_update(
    *,
    buyer_id: int,
    customer: Customer | None = None,
    websites: Sequence[Website] | None = None,
    is_active: bool | None = None,
) -> BuyerAccount:
    """Move a buyer to another customer, change their websites, or (de)activate their user (a deactivated
    user cannot sign in, and their API tokens stop working)."""
    with transaction.atomic():
        account = BuyerAccount.objects.select_for_update().select_related("user").filter(pk=buyer_id).first()
        if account is None:
            raise NotFound(f"There is no buyer {buyer_id}.", code="BUYER_NOT_FOUND")
        if customer is not None:
            account.customer = customer
            account.save(update_fields=["customer"])
        if websites is not None:
            account.websites.set(_websites_checked(websites))
        if is_active is not None and account.user.is_active != is_active:
            account.user.is_active = is_active
            account.user.save(update_fields=["is_active"])  # the accounts app revokes an inactive user's tokens
    return account


def buyer_invite(*, buyer_id: int, base_url: str) -> BuyerAccount:
    """Send a buyer an invitation: an e-mail with a one-time, expiring link to set their password
    (`accounts.invitations`). Records when; the e-mail goes out after commit. An inactive buyer is refused."""
    from countermand.accounts.invitations import invitation_email_send

    with transaction.atomic():
        account = (
            BuyerAccount.objects.select_for_update().select_related("user", "customer").filter(pk=buyer_id).first()
        )
        if account is None:
            raise NotFound(f"There is no buyer {buyer_id}.", code="BUYER_NOT_FOUND")
        if not account.user.is_active:
            raise Conflict(f"{account.user.email} is inactive: activate the buyer first.", code="BUYER_INACTIVE")
        if not account.user.email:
            raise Conflict(f"{account.user} has no e-mail address.", code="BUYER_WITHOUT_EMAIL")
        account.invited_at = timezone.now()
        account.save(update_fields=["invited_at"])
        user, customer_name = account.user, account.customer.name
        transaction.on_commit(lambda: invitation_email_send(user=user, base_url=base_url, customer_name=customer_name))
    return account
