"""Admin API shapes of customers and buyers (`/api/v1/admin/customers`, `/api/v1/admin/buyers`).

Input is strict (unknown fields are 400 with the accepted names); the services in `customers.services`
check and write.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from countermand.api.serializers import JsonBooleanField, PageQuerySerializer, PaginationSerializer, TextField
from countermand.api.strict import StrictFieldsMixin
from countermand.customers.models import BuyerAccount, Customer
from countermand.websites.models import Website

INT32_MAX = 2**31 - 1


class AddressSerializer(serializers.Serializer):
    street = serializers.CharField()
    postalCode = serializers.CharField()
    city = serializers.CharField()
    country = serializers.CharField(help_text="The ERP's country code.")


class CustomerSerializer(StrictFieldsMixin, serializers.Serializer):
    """A customer (bill-to account). `customerNumber` must equal the ERP's code (Tryton: the party code) and
    cannot change; `isActive: false` deactivates it (customers are never deleted: their orders stay)."""

    id = serializers.IntegerField(read_only=True)
    customerNumber = TextField(source="customer_number", max_length=50)
    name = TextField(max_length=200)
    isActive = JsonBooleanField(source="is_active", required=False, default=True)
    addresses = AddressSerializer(many=True, read_only=True, help_text="As the customer refresh last read them.")

    def validate_customerNumber(self, value: str) -> str:
        instance = self.instance
        if isinstance(instance, Customer) and value != instance.customer_number:
            raise serializers.ValidationError("The customer number is the ERP's and cannot change.")
        return value


@extend_schema_serializer(many=False)
class CustomerCollectionSerializer(serializers.Serializer):
    customers = CustomerSerializer(many=True)
    pagination = PaginationSerializer()


class CustomerQuerySerializer(PageQuerySerializer):
    search = serializers.CharField(
        required=False, max_length=100, help_text="Start of the customer number or part of the name."
    )
    isActive = serializers.BooleanField(required=False, allow_null=True, default=None)


class BuyerSerializer(serializers.Serializer):
    """A buyer: a storefront user (signs in with the e-mail address) of one customer and some websites."""

    id = serializers.IntegerField(read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    customerNumber = serializers.CharField(source="customer.customer_number", read_only=True)
    customerName = serializers.CharField(source="customer.name", read_only=True)
    websiteIds = serializers.SerializerMethodField()
    isActive = serializers.BooleanField(source="user.is_active", read_only=True)
    hasPassword = serializers.SerializerMethodField(help_text="False until the buyer accepted an invitation.")
    invitedAt = serializers.DateTimeField(source="invited_at", read_only=True, allow_null=True)

    def get_websiteIds(self, account: BuyerAccount) -> list[int]:
        return sorted(w.pk for w in account.websites.all())

    def get_hasPassword(self, account: BuyerAccount) -> bool:
        return account.user.has_usable_password()


@extend_schema_serializer(many=False)
class BuyerCollectionSerializer(serializers.Serializer):
    buyers = BuyerSerializer(many=True)
    pagination = PaginationSerializer()


class BuyerQuerySerializer(PageQuerySerializer):
    customerNumber = serializers.CharField(required=False, max_length=50, help_text="Only this customer's buyers.")
    websiteId = serializers.IntegerField(required=False, min_value=1, max_value=INT32_MAX)
    search = serializers.CharField(required=False, max_length=100, help_text="Part of the e-mail address.")


def _customer(number: str) -> Customer:
    customer = Customer.objects.filter(customer_number=number).first()
    if customer is None:
        raise serializers.ValidationError(f"There is no customer {number}.")
    return customer


def _websites(ids: list[int]) -> list[Website]:
    websites = list(Website.objects.filter(pk__in=ids))
    missing = sorted(set(ids) - {w.pk for w in websites})
    if missing:
        raise serializers.ValidationError(f"There is no website {', '.join(map(str, missing))}.")
    if not websites:
        raise serializers.ValidationError("A buyer shops on at least one website.")
    return websites


class BuyerWriteSerializer(StrictFieldsMixin, serializers.Serializer):
    """`PUT`/`PATCH /api/v1/admin/buyers/{id}`: the fields given change. The e-mail address is the user's
    sign-in name and cannot change here."""

    # Read-only: a buyer read and sent back as it is is accepted (these are not written).
    id = serializers.IntegerField(read_only=True)
    customerName = serializers.CharField(read_only=True)
    hasPassword = serializers.BooleanField(read_only=True)
    invitedAt = serializers.DateTimeField(read_only=True)
    email = serializers.EmailField(required=False, max_length=150)
    customerNumber = TextField(max_length=50, required=False)
    websiteIds = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=INT32_MAX), required=False, max_length=100
    )
    isActive = JsonBooleanField(required=False)

    def validate_email(self, value: str) -> str:
        account = self.instance
        if isinstance(account, BuyerAccount) and value.lower() != (account.user.email or "").lower():
            raise serializers.ValidationError("A buyer's e-mail address is their user name and cannot change.")
        return value

    def validate_customerNumber(self, value: str) -> Customer:
        return _customer(value)  # type: ignore[return-value]

    def validate_websiteIds(self, value: list[int]) -> list[Website]:
        return _websites(value)  # type: ignore[return-value]


class BuyerReplaceSerializer(BuyerWriteSerializer):
    """`PUT /api/v1/admin/buyers/{id}`: the buyer's customer and websites (and active flag, default true)."""

    customerNumber = TextField(max_length=50)
    websiteIds = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=INT32_MAX), min_length=1, max_length=100
    )
    isActive = JsonBooleanField(required=False, default=True)


class BuyerCreateSerializer(BuyerReplaceSerializer):
    """`POST /api/v1/admin/buyers`. `invite: true` also sends the invitation e-mail."""

    email = serializers.EmailField(max_length=150)
    invite = JsonBooleanField(required=False, default=False, help_text="Send the invitation e-mail now.")
