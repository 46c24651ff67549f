"""Admin API: customers and buyers (`/api/v1/admin/customers`, `/api/v1/admin/buyers`).

Thin: the serializers parse and check, `customers.services` writes, `customers.selectors` reads.
Permissions: customers.{view,add,change}_customer and customers.{view,add,change}_buyeraccount (the
integration admin manages both, the order admin buyers, the read-only admin reads; migration
customers/0003).
"""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from countermand.api import customer_serializers as s
from countermand.api.permissions import HasAdminPermissions
from countermand.api.serializers import pagination_data
from countermand.core.errors import NotFound
from countermand.customers.models import BuyerAccount, Customer
from countermand.customers.selectors import buyer_get, buyers_list, customers_list
from countermand.customers.services import buyer_create, buyer_invite, buyer_update, customer_create, customer_update
from countermand.orders.history import plain_page


def _permissions(model: str, **extra: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    view, add, change = (f"customers.{verb}_{model}" for verb in ("view", "add", "change"))
    return {
        "list": (view,),
        "retrieve": (view,),
        "create": (add,),
        "update": (change,),
        "partial_update": (change,),
        **extra,
    }


def base_url(request: Request) -> str:
    """Where links in e-mails point: the server the administrator called (behind a proxy: its host)."""
    return request.build_absolute_uri("/")


class CustomerViewSet(viewsets.ViewSet):
    permission_classes = [HasAdminPermissions]
    required_permissions = _permissions("customer")
    lookup_value_regex = r"\d+"
    error_statuses = {"post": (409,)}

    def _get(self, pk: str) -> Customer:
        customer = Customer.objects.filter(pk=int(pk)).first()
        if customer is None:
            raise NotFound(f"There is no customer {pk}.", code="CUSTOMER_NOT_FOUND")
        return customer

    @extend_schema(
        tags=["admin: customers"],
        operation_id="admin_customers_list",
        parameters=[s.CustomerQuerySerializer],
        responses={200: s.CustomerCollectionSerializer},
        description="Customers by customer number.",
    )
    def list(self, request: Request) -> Response:
        query = s.CustomerQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        page = plain_page(
            customers_list(search=data.get("search", ""), is_active=data.get("isActive")),
            page=data["page"],
            page_size=data["pageSize"],
        )
        return Response(
            {"customers": s.CustomerSerializer(page.items, many=True).data, "pagination": pagination_data(page)}
        )

    @extend_schema(
        tags=["admin: customers"],
        operation_id="admin_customers_create",
        request=s.CustomerSerializer,
        responses={201: s.CustomerSerializer},
        description="Create a customer whose number is the ERP's code for it (409 CUSTOMER_EXISTS).",
    )
    def create(self, request: Request) -> Response:
        body = s.CustomerSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        customer = customer_create(
            customer_number=data["customer_number"], name=data["name"], is_active=data["is_active"]
        )
        return Response(s.CustomerSerializer(customer).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["admin: customers"], operation_id="admin_customers_retrieve", responses={200: s.CustomerSerializer}
    )
    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(s.CustomerSerializer(self._get(pk)).data)

    def _update(self, request: Request, pk: str, *, partial: bool) -> Response:
        customer = self._get(pk)
        body = s.CustomerSerializer(customer, data=request.data, partial=partial)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        customer = customer_update(
            customer_id=customer.pk,
            name=data.get("name"),
            is_active=data.get("is_active"),  # absent from a PATCH: unchanged
        )
        return Response(s.CustomerSerializer(customer).data)

    @extend_schema(
        tags=["admin: customers"],
        operation_id="admin_customers_update",
        request=s.CustomerSerializer,
        responses={200: s.CustomerSerializer},
        description="Rename, deactivate (`isActive: false`) or reactivate a customer.",
    )
    def update(self, request: Request, pk: str) -> Response:
        return self._update(request, pk, partial=False)

    @extend_schema(
        tags=["admin: customers"],
        operation_id="admin_customers_partial_update",
        request=s.CustomerSerializer,
        responses={200: s.CustomerSerializer},
        description='Change some fields, e.g. `{"isActive": false}` to deactivate the customer.',
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        return self._update(request, pk, partial=True)


class BuyerViewSet(viewsets.ViewSet):
    permission_classes = [HasAdminPermissions]
    required_permissions = _permissions("buyeraccount", invite=("customers.change_buyeraccount",))
    lookup_value_regex = r"\d+"
    error_statuses = {"post": (409,)}

    def _get(self, pk: str) -> BuyerAccount:
        account = buyer_get(int(pk))
        if account is None:
            raise NotFound(f"There is no buyer {pk}.", code="BUYER_NOT_FOUND")
        return account

    def _data(self, account_id: int, code: int = status.HTTP_200_OK) -> Response:
        return Response(s.BuyerSerializer(buyer_get(account_id)).data, status=code)

    @extend_schema(
        tags=["admin: buyers"],
        operation_id="admin_buyers_list",
        parameters=[s.BuyerQuerySerializer],
        responses={200: s.BuyerCollectionSerializer},
        description="Buyers by e-mail address.",
    )
    def list(self, request: Request) -> Response:
        query = s.BuyerQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        buyers = buyers_list(
            customer_number=data.get("customerNumber", ""),
            website_id=data.get("websiteId"),
            search=data.get("search", ""),
        )
        page = plain_page(buyers, page=data["page"], page_size=data["pageSize"])
        return Response({"buyers": s.BuyerSerializer(page.items, many=True).data, "pagination": pagination_data(page)})

    @extend_schema(
        tags=["admin: buyers"],
        operation_id="admin_buyers_create",
        request=s.BuyerCreateSerializer,
        responses={201: s.BuyerSerializer},
        description="Create a buyer: a storefront user (user name = e-mail address, no password yet) of a "
        "customer and websites. `invite: true` sends the invitation e-mail (409 BUYER_EXISTS).",
    )
    def create(self, request: Request) -> Response:
        body = s.BuyerCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        with transaction.atomic():  # the buyer and its invitation, or neither
            account = buyer_create(
                email=data["email"],
                customer=data["customerNumber"],
                websites=data["websiteIds"],
                is_active=data["isActive"],
            )
            if data["invite"]:
                buyer_invite(buyer_id=account.pk, base_url=base_url(request))
        return self._data(account.pk, status.HTTP_201_CREATED)

    @extend_schema(tags=["admin: buyers"], operation_id="admin_buyers_retrieve", responses={200: s.BuyerSerializer})
    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(s.BuyerSerializer(self._get(pk)).data)

    def _update(self, request: Request, pk: str, *, partial: bool) -> Response:
        account = self._get(pk)
        serializer_class = s.BuyerWriteSerializer if partial else s.BuyerReplaceSerializer
        body = serializer_class(account, data=request.data, partial=partial)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        buyer_update(
            buyer_id=account.pk,
            customer=data.get("customerNumber"),
            websites=data.get("websiteIds"),
            is_active=data.get("isActive"),
        )
        return self._data(account.pk)

    @extend_schema(
        tags=["admin: buyers"],
        operation_id="admin_buyers_update",
        request=s.BuyerReplaceSerializer,
        responses={200: s.BuyerSerializer},
        description="Replace the buyer's customer, websites and active flag (`email` must stay the same).",
    )
    def update(self, request: Request, pk: str) -> Response:
        return self._update(request, pk, partial=False)

    @extend_schema(
        tags=["admin: buyers"],
        operation_id="admin_buyers_partial_update",
        request=s.BuyerWriteSerializer,
        responses={200: s.BuyerSerializer},
        description='Change some fields: `{"isActive": false}` deactivates the buyer (no sign-in, tokens revoked).',
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        return self._update(request, pk, partial=True)

    @extend_schema(
        tags=["admin: buyers"],
        operation_id="admin_buyers_invite",
        request=None,
        responses={202: s.BuyerSerializer},
        description="Send the buyer an e-mail with a one-time, expiring link to set their password "
        "(409 BUYER_INACTIVE for an inactive buyer). Sending again makes a new link.",
    )
    @action(detail=True, methods=["post"])
    def invite(self, request: Request, pk: str) -> Response:
        account = self._get(pk)
        buyer_invite(buyer_id=account.pk, base_url=base_url(request))
        return self._data(account.pk, status.HTTP_202_ACCEPTED)
