"""Admin API shapes. Model serializers name fields in camelCase and take their checks (lengths, ranges,
uniqueness) from the model fields through `camel()`; saving goes through the same services as the Admin
Console (connection_save, job_definition_save: their validation and audit) so the API accepts exactly what
the console does.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from countermand.api.serializers import (
    CancellationSerializer,
    JsonBooleanField,
    JsonModelSerializer,
    OrderDetailSerializer,
    OrderQuerySerializer,
    OrderStatusMappingSerializer,
    OrderSummarySerializer,
    PageQuerySerializer,
    PaginationSerializer,
    QuerySerializer,
    TextField,
    actor_id,
    camel,
    cancel_lines_field,
)
from countermand.api.strict import StrictFieldsMixin
from countermand.cancellations.models import CancellationRequest
from countermand.integration.models import (
    IntegrationConnection,
    IntegrationJob,
    IntegrationJobLog,
    JobDefinition,
    JobDefinitionParameter,
)
from countermand.integration.services import connection_save, connection_validate, job_definition_save
from countermand.orders.models import Order, OrderEvent
from countermand.orders.services import order_number_problem, order_status_problem
from countermand.websites.models import Website

INT32_MAX = 2**31 - 1


class WebsiteSerializer(JsonModelSerializer):
    class Meta:
        model = Website
        fields, extra_kwargs = camel("id", "name", "domain", "is_active")


@extend_schema_serializer(many=False)  # a wrapper object, also for list actions
class WebsiteCollectionSerializer(serializers.Serializer):
    websites = WebsiteSerializer(many=True)


@extend_schema_serializer(many=False)  # a wrapper object, also for list actions
class AdminOrderStatusMappingCollectionSerializer(serializers.Serializer):
    orderStatusMappings = OrderStatusMappingSerializer(many=True)


class SettingSerializer(serializers.Serializer):
    """A registered setting and its value, resolved for `websiteId` (or application-wide)."""

    name = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like Field.label
    group = serializers.CharField()
    type = serializers.ChoiceField(choices=["bool", "int", "string", "list", "choice"])
    scope = serializers.ChoiceField(choices=["application", "website"])
    description = serializers.CharField()
    choices = serializers.ListField(child=serializers.CharField())
    defaultValue = serializers.JSONField()
    value = serializers.JSONField(help_text="The value in force: website value → application value → default.")
    websiteId = serializers.IntegerField(allow_null=True)
    isSet = serializers.BooleanField(help_text="A value is stored at this level (website, or application).")


@extend_schema_serializer(many=False)  # a wrapper object, also for list actions
class SettingCollectionSerializer(serializers.Serializer):
    settings = SettingSerializer(many=True)


class SettingQuerySerializer(QuerySerializer):
    name = serializers.CharField(required=False, max_length=256, help_text="Part of the setting's name.")
    websiteId = serializers.IntegerField(required=False, min_value=1, max_value=INT32_MAX)


class SettingWriteSerializer(serializers.Serializer):
    value = serializers.JSONField(help_text="True/False, a number, text, or a list of texts — as the setting's type.")
    websiteId = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=INT32_MAX)


class ConnectionSerializer(JsonModelSerializer):
    """An ERP connection. `password` is write-only (stored encrypted); `hasPassword` says whether one is set."""

    password = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=1000, style={"input_type": "password"}
    )
    hasPassword = serializers.BooleanField(source="has_password", read_only=True)
    options = serializers.DictField(required=False, help_text="Options of the connection type.")

    class Meta:
        model = IntegrationConnection
        fields, extra_kwargs = camel(
            "id",
            "name",
            "type_name",
            "url",
            "log_on",
            "timeout_seconds",
            "is_active",
            "max_concurrent_jobs",
            "breaker_threshold",
            "breaker_cooldown_seconds",
            "breaker_state",
            "created_at",
            "updated_at",
            typeName={"help_text": "WebService, Tryton, Sandbox, or a type a plugin adds."},
            breakerState={"read_only": True},
        )
        fields += ["password", "hasPassword", "options"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        probe = IntegrationConnection(
            url=attrs.get("url", getattr(self.instance, "url", "")),
            type_name=attrs.get("type_name", getattr(self.instance, "type_name", "")),
            options=attrs.get("options", getattr(self.instance, "options", {})),
        )
        connection_validate(probe)  # raises ValidationFailed (400, its own code)
        attrs["options"] = probe.options
        return attrs

    def create(self, validated_data: dict[str, Any]) -> IntegrationConnection:
        password = validated_data.pop("password", None)
        connection = IntegrationConnection(**validated_data)
        return connection_save(connection=connection, password=password, actor_id=actor_id(self))

    def update(self, instance: IntegrationConnection, validated_data: dict[str, Any]) -> IntegrationConnection:
        password = validated_data.pop("password", None)  # omitted: the stored password stays
        for key, value in validated_data.items():
            setattr(instance, key, value)
        return connection_save(connection=instance, password=password, actor_id=actor_id(self))


@extend_schema_serializer(many=False)  # a wrapper object, also for list actions
class ConnectionCollectionSerializer(serializers.Serializer):
    integrationConnections = ConnectionSerializer(many=True)


class JobDefinitionParameterSerializer(JsonModelSerializer):
    class Meta:
        model = JobDefinitionParameter
        fields, extra_kwargs = camel(
            "id", "sequence", "name", "value_type", "default_value", "prompt", "is_required", id={"read_only": True}
        )
        # The (definition, name) uniqueness is checked by the parent serializer; the parent is not known here.
        validators: list = []


class JobDefinitionSerializer(JsonModelSerializer):
    """A job definition with its parameters. Sending `parameters` makes them the definition's parameters,
    matched by name: named ones are updated in place (jobs already queued keep them), others created, and
    the ones left out deleted."""

    connectionId = serializers.PrimaryKeyRelatedField(
        source="connection", queryset=IntegrationConnection.objects.all(), allow_null=True, required=False
    )
    parameters = JobDefinitionParameterSerializer(many=True, required=False)

    class Meta:
        model = JobDefinition
        fields, extra_kwargs = camel(
            "id",
            "name",
            "description",
            "job_type",
            "preprocessor",
            "integration_processor",
            "post_processor",
            "notify_email",
            "notify_condition",
            "max_retries",
            "retry_backoff_seconds",
            "timeout_seconds",
            "recurring_interval_seconds",
            "recurring_cron",
            "debugging_enabled",
            "is_active",
            "last_run_at",
            "created_at",
            "updated_at",
            lastRunAt={"read_only": True},
        )
        fields += ["connectionId", "parameters"]

    def validate_parameters(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        names = [p["name"] for p in value]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise serializers.ValidationError(f"Parameter names must be distinct: {', '.join(duplicates)}.")
        return value

    def create(self, validated_data: dict[str, Any]) -> JobDefinition:
        parameters = validated_data.pop("parameters", [])
        definition = JobDefinition(**validated_data)
        return job_definition_save(definition=definition, parameters=parameters, actor_id=actor_id(self))

    def update(self, instance: JobDefinition, validated_data: dict[str, Any]) -> JobDefinition:
        parameters = validated_data.pop("parameters", None)  # omitted: the parameters stay as they are
        for key, value in validated_data.items():
            setattr(instance, key, value)
        return job_definition_save(definition=instance, parameters=parameters, actor_id=actor_id(self))


@extend_schema_serializer(many=False)  # a wrapper object, also for list actions
class JobDefinitionCollectionSerializer(serializers.Serializer):
    jobDefinitions = JobDefinitionSerializer(many=True)


class JobRunSerializer(serializers.Serializer):
    parameters = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=1024),
        required=False,
        default=dict,
        help_text="Parameter name → value; missing ones take their default.",
    )


class JobParameterValueSerializer(serializers.Serializer):
    name = serializers.CharField()
    value = serializers.CharField()


class IntegrationJobSerializer(serializers.ModelSerializer):
    """A queued or executed run of a job definition (the original system's IntegrationJob names)."""

    jobNumber = serializers.IntegerField(source="pk", read_only=True)
    jobDefinitionId = serializers.IntegerField(source="definition_id", read_only=True)
    jobDefinitionName = serializers.CharField(source="definition.name", read_only=True)
    scheduleDateTime = serializers.DateTimeField(source="schedule_at", read_only=True)
    startDateTime = serializers.DateTimeField(source="started_at", read_only=True, allow_null=True)
    endDateTime = serializers.DateTimeField(source="finished_at", read_only=True, allow_null=True)
    orderNumber = serializers.CharField(source="order.web_order_number", read_only=True, allow_null=True, default=None)
    requestedBy = serializers.CharField(source="requested_by.get_username", read_only=True, default=None)
    retryOfJobNumber = serializers.IntegerField(source="retry_of_id", read_only=True, allow_null=True)
    parameters = JobParameterValueSerializer(many=True, read_only=True)
    result = serializers.JSONField(read_only=True)

    class Meta:
        model = IntegrationJob
        fields, extra_kwargs = camel(
            "id",
            "status",
            "attempt",
            "max_attempts",
            "error",
            "record_count",
            "warning_count",
            "error_count",
            "cancel_requested",
            "created_at",
        )
        fields += [
            "jobNumber",
            "jobDefinitionId",
            "jobDefinitionName",
            "scheduleDateTime",
            "startDateTime",
            "endDateTime",
            "orderNumber",
            "requestedBy",
            "retryOfJobNumber",
            "parameters",
            "result",
        ]
        read_only_fields = fields


@extend_schema_serializer(many=False)  # a wrapper object, also for list actions
class IntegrationJobCollectionSerializer(serializers.Serializer):
    integrationJobs = IntegrationJobSerializer(many=True)
    pagination = PaginationSerializer()


class IntegrationJobLogSerializer(serializers.ModelSerializer):
    typeName = serializers.CharField(source="level", help_text="Debug, Info, Warn, Error or Fatal.")
    logDateTime = serializers.DateTimeField(source="logged_at")

    class Meta:
        model = IntegrationJobLog
        fields, extra_kwargs = camel("sequence", "attempt", "message", "module_name")
        fields += ["typeName", "logDateTime"]
        read_only_fields = fields


@extend_schema_serializer(many=False)  # a wrapper object, also for list actions
class IntegrationJobLogCollectionSerializer(serializers.Serializer):
    logs = IntegrationJobLogSerializer(many=True)


class JobQuerySerializer(PageQuerySerializer):
    status = serializers.ChoiceField(choices=IntegrationJob.Status.values, required=False)
    jobDefinitionId = serializers.IntegerField(required=False, min_value=1, max_value=INT32_MAX)


class AdminCancellationSerializer(CancellationSerializer):
    """A cancellation request as administrators see it, with the ERP delivery facts."""

    id = serializers.IntegerField(read_only=True)
    orderNumber = serializers.CharField(source="order.web_order_number", read_only=True)
    erpOrderNumber = serializers.CharField(source="order.erp_order_number", read_only=True, allow_null=True)
    channel = serializers.CharField(read_only=True)
    forced = serializers.BooleanField(read_only=True)
    previousStatus = serializers.CharField(source="previous_status", read_only=True)
    erpReference = serializers.CharField(source="erp_reference", read_only=True)
    erpMessage = serializers.CharField(
        source="erp_message", read_only=True, help_text="The ERP's answer; for a Failed request the delivery's error."
    )
    jobNumber = serializers.IntegerField(source="job_id", read_only=True, allow_null=True)
    sendCount = serializers.IntegerField(source="send_count", read_only=True)
    requestedBy = serializers.CharField(source="requested_by.get_username", read_only=True, default=None)
    needsAttention = serializers.BooleanField(source="needs_attention", read_only=True)
    notSentToErp = serializers.SerializerMethodField(help_text="LocalOnly: cancelled here, the ERP was never told.")

    def get_notSentToErp(self, request: CancellationRequest) -> bool:
        return request.state == CancellationRequest.State.LOCAL_ONLY


@extend_schema_serializer(many=False)  # a wrapper object, also for list actions
class CancellationCollectionSerializer(serializers.Serializer):
    cancellations = AdminCancellationSerializer(many=True)
    pagination = PaginationSerializer()


class CancellationQuerySerializer(PageQuerySerializer):
    state = serializers.ChoiceField(choices=CancellationRequest.State.values, required=False)
    needsAttention = serializers.BooleanField(required=False, help_text="Only Failed and LocalOnly requests.")


class OrderEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(
        source="actor.get_username",
        read_only=True,
        default=None,
        allow_null=True,
        help_text="Who did it; null for the system (a worker, the refresh).",
    )

    class Meta:
        model = OrderEvent
        fields, extra_kwargs = camel("type", "channel", "old_status", "new_status", "message", "created_at")
        fields += ["actor"]
        read_only_fields = fields


class AdminOrderDetailSerializer(OrderDetailSerializer):
    """An order with every cancellation request and its audit trail."""

    customerName = serializers.CharField(source="customer.name", read_only=True)
    websiteName = serializers.CharField(source="website.name", read_only=True)
    cancellations = serializers.SerializerMethodField()
    events = OrderEventSerializer(source="events.all", many=True, read_only=True)

    @extend_schema_field(AdminCancellationSerializer(many=True))
    def get_cancellations(self, order: Order) -> Any:
        return AdminCancellationSerializer(self.context.get("cancellations", []), many=True).data


class AdminCancelSerializer(serializers.Serializer):
    reason = TextField(max_length=100)
    note = TextField(max_length=2000, required=False, allow_blank=True, default="")
    force = JsonBooleanField(
        required=False, default=False, help_text="Skip the status rules (needs the force-cancel permission and a note)."
    )
    lines = cancel_lines_field()


class OrderLineInputSerializer(StrictFieldsMixin, serializers.Serializer):
    lineNumber = serializers.IntegerField(source="line_number", min_value=1, max_value=INT32_MAX)
    productErpNumber = serializers.CharField(source="product_number", max_length=100)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)
    qtyOrdered = serializers.DecimalField(
        source="quantity_ordered", max_digits=14, decimal_places=3, coerce_to_string=False, required=False
    )
    qtyShipped = serializers.DecimalField(
        source="quantity_shipped", max_digits=14, decimal_places=3, coerce_to_string=False, required=False
    )
    qtyCancelled = serializers.DecimalField(
        source="quantity_cancelled", max_digits=14, decimal_places=3, coerce_to_string=False, required=False
    )
    unitNetPrice = serializers.DecimalField(
        source="unit_price", max_digits=14, decimal_places=4, coerce_to_string=False, required=False
    )
    lineTotal = serializers.DecimalField(
        source="line_total", max_digits=14, decimal_places=2, coerce_to_string=False, required=False
    )
    status = serializers.CharField(max_length=50, required=False, allow_blank=True)

    def validate_status(self, value: str) -> str:
        return status_checked(value, required=False)


def order_number_checked(value: str) -> str:
    """The orders' one rule for order numbers (`order_number_problem`), as a field error."""
    problem = order_number_problem(value)
    if problem:
        raise serializers.ValidationError(f"Not a valid order number: {problem}.")
    return value


def status_checked(value: str, *, required: bool = True) -> str:
    problem = order_status_problem(value.strip(), required=required)
    if problem:
        raise serializers.ValidationError(f"Not a status code: {problem}.")
    return value


def money_input(source: str) -> serializers.DecimalField:
    return serializers.DecimalField(
        source=source, max_digits=14, decimal_places=2, coerce_to_string=False, required=False
    )


class OrderUpdateSerializer(StrictFieldsMixin, serializers.Serializer):
    """`PUT /api/v1/admin/orders/{orderNumber}`: the fields given change; `orderLines`, if given, replace the lines.

    The field names are the one table of `plugin.ORDER_JSON_FIELDS` (docs/api.md); an unknown field is 400
    with the accepted names, and nothing is saved."""

    erpOrderNumber = TextField(source="erp_order_number", max_length=50, required=False, allow_null=True)
    orderDate = serializers.DateField(source="order_date", required=False)
    customerPO = serializers.CharField(source="customer_po", max_length=50, required=False, allow_blank=True)
    currencyCode = serializers.CharField(source="currency", min_length=3, max_length=3, required=False)
    productTotal = money_input("subtotal")
    taxAmount = money_input("tax_amount")
    shippingCharges = money_input("shipping_amount")
    orderTotal = money_input("total")
    status = TextField(max_length=50, required=False, help_text="The ERP's status code.")
    orderLines = OrderLineInputSerializer(many=True, required=False, source="lines")

    def validate_erpOrderNumber(self, value: str | None) -> str | None:
        return order_number_checked(value) if value else None  # "": no ERP number (the column is unique when set)

    def validate_status(self, value: str) -> str:
        return status_checked(value)

    def order_values(self) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
        data = dict(self.validated_data)
        lines = data.pop("lines", None)
        return data, lines


class OrderImportSerializer(OrderUpdateSerializer):
    """`POST /api/v1/admin/orders`: an order as the ERP knows it, with its lines."""

    webOrderNumber = TextField(max_length=50)
    websiteId = serializers.IntegerField(min_value=1, max_value=INT32_MAX)
    customerNumber = serializers.CharField(max_length=50)
    orderDate = serializers.DateField(source="order_date")
    status = TextField(max_length=50, help_text="The ERP's status code.")

    def validate_webOrderNumber(self, value: str) -> str:
        return order_number_checked(value)

    def validate_websiteId(self, value: int) -> Website:
        website = Website.objects.filter(pk=value).first()
        if website is None:
            raise serializers.ValidationError(f"There is no website {value}.")
        return website  # type: ignore[return-value]

    def validate_customerNumber(self, value: str) -> Any:
        from countermand.customers.models import Customer

        customer = Customer.objects.filter(customer_number=value).first()
        if customer is None:
            raise serializers.ValidationError(f"There is no customer {value}.")
        return customer

    def order_values(self) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
        values, lines = super().order_values()
        for key in ("webOrderNumber", "websiteId", "customerNumber"):
            values.pop(key)
        return values, lines


@extend_schema_serializer(many=False)  # a wrapper object, also for list actions
class AdminOrderCollectionSerializer(serializers.Serializer):
    orders = OrderSummarySerializer(many=True)
    pagination = PaginationSerializer()


class AdminOrderQuerySerializer(OrderQuerySerializer):
    customerNumber = serializers.CharField(required=False, max_length=50, help_text="Only this customer's orders.")


class SetupCheckItemSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    state = serializers.ChoiceField(choices=["ok", "missing", "warning"])
    detail = serializers.CharField()
    fix = serializers.CharField()
    link = serializers.CharField()


class SetupCheckSerializer(serializers.Serializer):
    complete = serializers.BooleanField(help_text="No required step is missing.")
    items = SetupCheckItemSerializer(many=True)
