"""Storefront API shapes (camelCase, named as the original system names them) and their input checks."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from countermand.cancellations.models import CancellationRequest
from countermand.orders.history import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, OrderFilters, OrdersShown
from countermand.orders.models import Order, OrderLine, OrderStatusMapping
from countermand.orders.services import order_status_mapping_save


def to_camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def camel(*names: str, **overrides: dict[str, Any]) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """`Meta.fields` and `Meta.extra_kwargs` exposing model fields under camelCase names.

    ModelSerializer builds each field from the model field named by `source`, so max lengths, ranges and
    unique validators come from the model. `overrides` adds field options, keyed by the camelCase name.
    """
    fields, extra = [], {}
    for name in names:
        public = to_camel(name)
        fields.append(public)
        extra[public] = {**({"source": name} if public != name else {}), **overrides.get(public, {})}
    return fields, extra


def money(source: str, help_text: str = "") -> serializers.DecimalField:
    return serializers.DecimalField(
        source=source, max_digits=14, decimal_places=2, coerce_to_string=False, read_only=True, help_text=help_text
    )


class JsonTextMixin:
    """Text fields that take JSON text only: `{"note": 42}` is 400, not the text "42"."""

    default_error_messages = {"not_text": "Must be text (a JSON string), not {kind}."}

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("not_text", kind=type(data).__name__.replace("NoneType", "null"))  # type: ignore[attr-defined]
        return super().to_internal_value(data)  # type: ignore[misc]


class TextField(JsonTextMixin, serializers.CharField):  # type: ignore[misc]  # error messages: a dict of str either way
    """A CharField that takes JSON text only."""


_JSON_TEXT_FIELDS: dict[type, type] = {}


def json_text_field_class(field_class: type) -> type:
    """`field_class` (a CharField, EmailField…) taking JSON text only."""
    if issubclass(field_class, JsonTextMixin) or not issubclass(field_class, serializers.CharField):
        return field_class
    if field_class not in _JSON_TEXT_FIELDS:
        _JSON_TEXT_FIELDS[field_class] = type(f"Json{field_class.__name__}", (JsonTextMixin, field_class), {})
    return _JSON_TEXT_FIELDS[field_class]


class JsonBooleanField(serializers.BooleanField):
    """A BooleanField that takes JSON true/false only: `{"isActive": 0}` is 400, as the schema says."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class JsonModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose model fields take the JSON types the schema names: booleans true/false only
    (JsonBooleanField), texts strings only (JsonTextMixin) — DRF would take 0 as false and 0 as "0"."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.BooleanField: JsonBooleanField,
    }

    def build_standard_field(self, field_name: str, model_field: Any) -> tuple[type, dict[str, Any]]:
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        return json_text_field_class(field_class), kwargs


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send it as `Authorization: Bearer <token>`. Shown only once.")
    expiresAt = serializers.DateTimeField()


class BlockerSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="WEBSITE_DISABLED, STATUS_NOT_CANCELLABLE, MAPPING_DISALLOWS, …")
    message = serializers.CharField()


class CancellationLineSerializer(serializers.Serializer):
    """A line of a partial cancellation: how much was asked, and what the ERP cancelled (once confirmed)."""

    lineNumber = serializers.IntegerField(source="line_number", read_only=True)
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3, coerce_to_string=False, read_only=True)
    quantityConfirmed = serializers.DecimalField(
        source="quantity_confirmed",
        max_digits=14,
        decimal_places=3,
        coerce_to_string=False,
        read_only=True,
        allow_null=True,
    )


class CancellationSerializer(serializers.Serializer):
    """The latest cancellation request of an order, as a buyer follows it."""

    state = serializers.ChoiceField(choices=CancellationRequest.State.values, read_only=True)
    reason = serializers.CharField(source="reason_code", read_only=True)
    note = serializers.CharField(source="reason_text", read_only=True)
    requestedAt = serializers.DateTimeField(source="created_at", read_only=True)
    resolvedAt = serializers.DateTimeField(source="resolved_at", read_only=True, allow_null=True)
    erpMessage = serializers.CharField(
        source="buyer_message",
        read_only=True,
        help_text="The ERP's answer; for a Failed request a sentence for the buyer (the error is for staff only).",
    )
    lines = CancellationLineSerializer(
        source="lines.all",
        many=True,
        read_only=True,
        help_text="The lines of a partial cancellation; empty: the whole order.",
    )


class OrderStatusMappingSerializer(JsonModelSerializer):
    class Meta:
        model = OrderStatusMapping
        fields, extra_kwargs = camel(
            "id", "erp_order_status", "display_name", "is_default", "allow_rma", "allow_cancellation"
        )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        is_default = attrs.get("is_default", getattr(self.instance, "is_default", False))
        others = OrderStatusMapping.objects.filter(is_default=True)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if is_default and others.exists():
            raise serializers.ValidationError(
                {"isDefault": f"{others.first()} is already the default mapping; only one can be."}
            )
        return attrs

    def create(self, validated_data: dict[str, Any]) -> OrderStatusMapping:
        return order_status_mapping_save(mapping=OrderStatusMapping(**validated_data), actor_id=actor_id(self))

    def update(self, instance: OrderStatusMapping, validated_data: dict[str, Any]) -> OrderStatusMapping:
        for key, value in validated_data.items():
            setattr(instance, key, value)
        return order_status_mapping_save(mapping=instance, actor_id=actor_id(self))


def actor_id(serializer: serializers.BaseSerializer) -> int | None:
    """The id of the user the API request is made by, for the services' audit."""
    request = serializer.context.get("request")
    user = getattr(request, "user", None)
    return user.pk if user is not None and user.is_authenticated else None


class OrderStatusMappingCollectionSerializer(serializers.Serializer):
    orderStatusMappings = OrderStatusMappingSerializer(many=True)


class OrderLineSerializer(serializers.Serializer):
    lineNumber = serializers.IntegerField(source="line_number", read_only=True)
    productErpNumber = serializers.CharField(source="product_number", read_only=True)
    description = serializers.CharField(read_only=True)
    qtyOrdered = serializers.DecimalField(
        source="quantity_ordered", max_digits=14, decimal_places=3, coerce_to_string=False, read_only=True
    )
    qtyShipped = serializers.DecimalField(
        source="quantity_shipped", max_digits=14, decimal_places=3, coerce_to_string=False, read_only=True
    )
    unitNetPrice = serializers.DecimalField(
        source="unit_price", max_digits=14, decimal_places=4, coerce_to_string=False, read_only=True
    )
    lineTotal = money("line_total")
    status = serializers.CharField(read_only=True)
    qtyCancelled = serializers.DecimalField(
        source="quantity_cancelled", max_digits=14, decimal_places=3, coerce_to_string=False, read_only=True
    )
    qtyCancellable = serializers.DecimalField(
        source="quantity_cancellable",
        max_digits=14,
        decimal_places=3,
        coerce_to_string=False,
        read_only=True,
        help_text="What may still be cancelled of the line: qtyOrdered - qtyShipped - qtyCancelled.",
    )
    cancelBlockers = serializers.SerializerMethodField(
        help_text="Why (part of) this line cannot be cancelled: the order's blockers, then the line's own "
        "(LINE_FULLY_SHIPPED, LINE_ALREADY_CANCELLED, PARTIAL_CANCELLATION_DISABLED, …)."
    )

    @extend_schema_field(BlockerSerializer(many=True))
    def get_cancelBlockers(self, line: OrderLine) -> list[dict[str, str]]:
        shown = self.context.get("shown")
        return [b.as_dict() for b in shown.blockers_of_line(line)] if shown is not None else []


class OrderSummarySerializer(serializers.Serializer):
    """An order in a list. `context["shown"]` (OrdersShown) supplies display names and the rules' verdict."""

    webOrderNumber = serializers.CharField(source="web_order_number", read_only=True)
    erpOrderNumber = serializers.CharField(source="erp_order_number", read_only=True, allow_null=True)
    orderDate = serializers.DateField(source="order_date", read_only=True)
    websiteId = serializers.IntegerField(source="website_id", read_only=True)
    customerNumber = serializers.CharField(source="customer.customer_number", read_only=True)
    customerPO = serializers.CharField(source="customer_po", read_only=True)
    currencyCode = serializers.CharField(source="currency", read_only=True)
    status = serializers.CharField(read_only=True)
    statusDisplay = serializers.SerializerMethodField()
    orderTotal = money("total")
    canCancel = serializers.SerializerMethodField()

    @property
    def shown(self) -> OrdersShown:
        return self.context["shown"]

    def get_statusDisplay(self, order: Order) -> str:
        return self.shown.status_display(order)

    def get_canCancel(self, order: Order) -> bool:
        return self.shown.can_cancel(order)


class OrderDetailSerializer(OrderSummarySerializer):
    """An order with its lines, why it can (not) be cancelled, and its latest cancellation."""

    productTotal = money("subtotal", "Total of the lines.")
    taxAmount = money("tax_amount")
    shippingCharges = money("shipping_amount")
    cancelBlockers = serializers.SerializerMethodField()
    cancellation = serializers.SerializerMethodField()
    cancellationReasons = serializers.SerializerMethodField()
    orderLines = OrderLineSerializer(source="lines.all", many=True, read_only=True)

    @extend_schema_field(BlockerSerializer(many=True))
    def get_cancelBlockers(self, order: Order) -> list[dict[str, str]]:
        return [b.as_dict() for b in self.shown.blockers.get(order.id, [])]

    @extend_schema_field(CancellationSerializer(allow_null=True))
    def get_cancellation(self, order: Order) -> dict[str, Any] | None:
        latest = self.context.get("cancellation")
        return CancellationSerializer(latest).data if latest else None

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_cancellationReasons(self, order: Order) -> list[str]:
        """The reasons this order's website offers; `reason` of a cancellation must be one of them."""
        return self.shown.reasons.get(order.website_id, [])


class PaginationSerializer(serializers.Serializer):
    page = serializers.IntegerField()
    currentPage = serializers.IntegerField()
    pageSize = serializers.IntegerField()
    totalItemCount = serializers.IntegerField()
    numberOfPages = serializers.IntegerField()


class OrderCollectionSerializer(serializers.Serializer):
    orders = OrderSummarySerializer(many=True)
    pagination = PaginationSerializer()
    showErpOrderNumber = serializers.BooleanField()


def pagination_data(page: Any) -> dict[str, int]:
    return {
        "page": page.page,
        "currentPage": page.page,
        "pageSize": page.page_size,
        "totalItemCount": page.total,
        "numberOfPages": page.number_of_pages,
    }


class QuerySerializer(serializers.Serializer):
    """Query parameters: an empty value (`?toDate=`) is 400 naming the parameter, not taken as absent
    (DRF's default for optional fields of a query string), so that what the schema says holds."""

    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "lists"):
            empty = sorted(name for name, values in data.lists() if name in self.fields and "" in values)
            if empty:
                raise serializers.ValidationError(
                    {name: ["Give a value, or leave the parameter out."] for name in empty}
                )
        return super().to_internal_value(data)


class PageQuerySerializer(QuerySerializer):
    page = serializers.IntegerField(min_value=1, max_value=10_000_000, default=1)
    pageSize = serializers.IntegerField(min_value=1, max_value=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE)


class OrderQuerySerializer(PageQuerySerializer):
    """Filters of `GET /api/v1/orders`."""

    status = serializers.ListField(
        child=serializers.CharField(max_length=50),
        required=False,
        help_text="ERP status code(s); repeat the parameter for several.",
    )
    search = serializers.CharField(
        required=False, max_length=100, help_text="Start of a web or ERP order number or of the customer PO."
    )
    fromDate = serializers.DateField(required=False, help_text="Orders placed on or after this date.")
    toDate = serializers.DateField(required=False, help_text="Orders placed on or before this date.")
    websiteId = serializers.IntegerField(
        required=False, min_value=1, max_value=2**31 - 1, help_text="Only this website's orders."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("fromDate") and attrs.get("toDate") and attrs["fromDate"] > attrs["toDate"]:
            raise serializers.ValidationError({"toDate": "toDate must not be before fromDate."})
        return attrs

    def filters(self) -> OrderFilters:
        data = self.validated_data
        return OrderFilters(
            statuses=tuple(data.get("status") or ()),
            search=data.get("search", ""),
            from_date=data.get("fromDate"),
            to_date=data.get("toDate"),
        )


class CancelLineInputSerializer(serializers.Serializer):
    """A line to cancel: its number and the quantity (at most its `qtyCancellable`)."""

    lineNumber = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3, min_value=Decimal("0.001"))


def cancel_lines_field() -> serializers.ListField:
    return serializers.ListField(
        child=CancelLineInputSerializer(),
        required=False,
        default=list,
        max_length=1000,
        help_text="Partial cancellation: the lines and quantities to cancel; left out or empty, the whole "
        "order. A line that cannot be cancelled: 409 LINES_NOT_CANCELLABLE with `blockers` "
        "[{lineNumber, code, message}], nothing saved.",
    )


def cancel_lines_pairs(validated: list[dict[str, Any]]) -> list[tuple[int, Decimal]]:
    """The validated `lines` as the cancellation service takes them."""
    return [(line["lineNumber"], line["quantity"]) for line in validated]


class CancelRequestSerializer(serializers.Serializer):
    """`POST /api/v1/orders/{orderNumber}/cancel`."""

    reason = TextField(max_length=100, help_text="One of the order's `cancellationReasons`.")
    note = TextField(max_length=2000, required=False, allow_blank=True, default="")
    lines = cancel_lines_field()


class OrderPatchSerializer(serializers.Serializer):
    """`PATCH /api/v1/orders/{orderNumber}` as the original storefront sends it: the order (or part of it)
    with `status` set to CancellationRequested, and `lines` for a partial cancellation (as `POST …/cancel`).
    Other fields of the order are accepted and ignored."""

    status = TextField(max_length=50)
    cancellationReason = TextField(max_length=100, required=False, help_text="Required to request a cancellation.")
    note = TextField(max_length=2000, required=False, allow_blank=True, default="")
    erpOrderNumber = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    lines = cancel_lines_field()
