"""Storefront forms: signing in and asking for a password reset (both throttled), filtering the order history,
cancelling an order."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError

from countermand.accounts.services import (
    InvalidCredentials,
    LoginThrottled,
    credentials_check,
    password_reset_request_count,
)
from countermand.core.errors import Conflict
from countermand.customers.models import BuyerAccount
from countermand.customers.services import buyer_invite
from countermand.orders.actors import BuyerCustomerInactive, actor_for_user
from countermand.orders.history import OrderFilters
from countermand.orders.models import OrderLine, OrderStatusMapping
from countermand.orders.policies import quantity_text


class SignInForm(AuthenticationForm):
    """Django's sign-in form, with the login throttling shared with the API's token endpoint."""

    throttled = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "E-mail address or user name"
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autocapitalize": "none"})
        self.fields["password"].widget.attrs.update({"autocomplete": "current-password"})

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username and password:
            try:
                self.user_cache = credentials_check(request=self.request, username=username, password=password)
            except LoginThrottled as exc:
                self.throttled = True
                raise ValidationError(exc.message, code="throttled") from exc
            except InvalidCredentials:
                raise self.get_invalid_login_error() from None
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data

    def confirm_login_allowed(self, user: Any) -> None:
        """Django's check (an active user), and the buyer rule: a buyer of an inactive customer is refused."""
        super().confirm_login_allowed(user)
        try:
            actor_for_user(user)
        except BuyerCustomerInactive as exc:
            raise ValidationError(exc.message, code="customer_inactive") from exc


class PasswordResetRequestForm(PasswordResetForm):
    """*Forgot your password?*: Django's reset form, throttled like signing in, and working for an invited
    buyer who never chose a password too — they get a fresh invitation link instead (Django skips users
    without a usable password). Either way the page that follows is the same, account or not."""

    throttled = False

    def __init__(self, *args: Any, request: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("email"):
            try:
                password_reset_request_count(request=self.request, email=data["email"])
            except LoginThrottled as exc:
                self.throttled = True
                raise ValidationError(exc.message, code="throttled") from exc
        return data

    def invited_buyers(self, email: str) -> list[BuyerAccount]:
        """Active buyers of active customers with this e-mail address who have no password yet."""
        email_field = get_user_model().get_email_field_name()
        accounts = BuyerAccount.objects.select_related("user").filter(
            **{f"user__{email_field}__iexact": email}, user__is_active=True, customer__is_active=True
        )
        return [account for account in accounts if not account.user.has_usable_password()]

    def save(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        super().save(*args, **kwargs)
        request = kwargs.get("request") or self.request
        for account in self.invited_buyers(self.cleaned_data["email"]):
            # The invitation's link and e-mail (accounts.invitations), sent after commit by the service.
            try:
                buyer_invite(buyer_id=account.pk, base_url=request.build_absolute_uri("/"))
            except Conflict:  # deactivated since the query: no e-mail, and the same neutral answer
                continue


class OrderFilterForm(forms.Form):
    """The filters above *My orders*. Invalid values are reported and ignored."""

    search = forms.CharField(
        required=False,
        max_length=100,
        label="Order or PO number",
        help_text="The start of a web order number, ERP order number or purchase order number.",
    )
    status = forms.ChoiceField(required=False, label="Status")
    from_date = forms.DateField(required=False, label="Placed from", widget=forms.DateInput(attrs={"type": "date"}))
    to_date = forms.DateField(required=False, label="Placed until", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, mappings: Sequence[OrderStatusMapping], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        status = self.fields["status"]
        assert isinstance(status, forms.ChoiceField)
        status.choices = [("", "All statuses"), *((m.erp_order_status, m.display_name) for m in mappings)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("from_date") and data.get("to_date") and data["from_date"] > data["to_date"]:
            self.add_error("to_date", "Choose a date on or after the “Placed from” date.")
        return data

    def filters(self) -> OrderFilters:
        """The valid filters (an invalid form filters by nothing, and shows its errors)."""
        if not self.is_valid():
            return OrderFilters()
        data = self.cleaned_data
        return OrderFilters(
            statuses=(data["status"],) if data.get("status") else (),
            search=data.get("search") or "",
            from_date=data.get("from_date"),
            to_date=data.get("to_date"),
        )


class CancelScope(StrEnum):
    WHOLE_ORDER = "order"
    LINES = "lines"


def line_quantity_field_name(line_number: int) -> str:
    return f"cancel_line_{line_number}"


class CancelOrderForm(forms.Form):
    """The confirmation dialog: a reason from the website's list, and an optional note. With partial
    cancellation offered (`lines`: the order's lines that may be cancelled), also what to cancel — the
    whole order (the default) or some quantity of some lines."""

    scope = forms.ChoiceField(
        label="What do you want to cancel?",
        choices=[(CancelScope.WHOLE_ORDER, "The whole order"), (CancelScope.LINES, "Some lines only")],
        initial=CancelScope.WHOLE_ORDER,
        required=False,
        widget=forms.RadioSelect,
    )
    reason = forms.ChoiceField(label="Why do you want to cancel this order?")
    note = forms.CharField(
        required=False,
        max_length=2000,
        label="Anything else we should know? (optional)",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, reasons: Sequence[str], lines: Sequence[OrderLine] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        reason = self.fields["reason"]
        assert isinstance(reason, forms.ChoiceField)
        reason.choices = [("", "Choose a reason"), *((r, r) for r in reasons)]
        self.lines = list(lines)
        if not self.lines:
            del self.fields["scope"]
        for line in self.lines:
            most = line.quantity_cancellable
            self.fields[line_quantity_field_name(line.line_number)] = forms.DecimalField(
                required=False,
                min_value=Decimal(0),
                max_value=most,
                max_digits=14,
                decimal_places=3,
                initial=0,
                label=f"Line {line.line_number}, {line.product_number}: how many to cancel?",
                help_text=f"Up to {quantity_text(most)}.",
                widget=forms.NumberInput(
                    attrs={
                        "min": "0",
                        "max": quantity_text(most),
                        "step": "any",
                        "inputmode": "decimal",
                        "data-line-number": line.line_number,
                        "data-unit-price": f"{line.unit_price:f}",
                        "data-ordered": quantity_text(line.quantity_ordered - line.quantity_cancelled),
                    }
                ),
            )

    def line_fields(self) -> list[forms.BoundField]:
        return [self[line_quantity_field_name(line.line_number)] for line in self.lines]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.lines and data.get("scope") == CancelScope.LINES and not self.cancel_lines(data):
            raise ValidationError("Choose how many to cancel of at least one line.", code="no_lines")
        return data

    def cancel_lines(self, data: dict[str, Any] | None = None) -> list[tuple[int, Decimal]]:
        """The asked (line number, quantity) pairs; none for the whole order."""
        data = self.cleaned_data if data is None else data
        if not self.lines or data.get("scope") != CancelScope.LINES:
            return []
        asked = [(line.line_number, data.get(line_quantity_field_name(line.line_number))) for line in self.lines]
        return [(number, quantity) for number, quantity in asked if quantity]
