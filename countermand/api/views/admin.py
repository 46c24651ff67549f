"""Admin API (`/api/v1/admin/…`): staff users with Django permissions; the roles are groups (api/roles.py).

Thin: parse and check input with the serializers, call a service or selector, render.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, QuerySet
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from countermand.api import admin_serializers as s
from countermand.api.idempotency import IDEMPOTENCY_KEY_PARAMETER, cancel_idempotent
from countermand.api.permissions import HasAdminPermissions, request_actor
from countermand.api.serializers import (
    OrderStatusMappingSerializer,
    OrderSummarySerializer,
    cancel_lines_pairs,
    pagination_data,
)
from countermand.cancellations.models import CancellationRequest
from countermand.cancellations.services import cancellation_resend, order_cancel_request
from countermand.cancellations.setup_check import setup_check, setup_is_complete
from countermand.core.errors import Conflict, NotFound, PermissionDenied
from countermand.integration.models import IntegrationConnection, IntegrationJob, JobDefinition
from countermand.integration.services import (
    connection_delete,
    job_cancel,
    job_definition_delete,
    job_retry,
    job_run,
)
from countermand.orders.history import order_cancellations, order_history_page, orders_shown, plain_page
from countermand.orders.models import Order, OrderStatusMapping
from countermand.orders.selectors import order_get
from countermand.orders.services import order_import, order_status_mapping_delete, order_update
from countermand.settings.registry import SETTINGS, SettingDefinition
from countermand.settings.selectors import SettingsSnapshot, settings_snapshot
from countermand.settings.services import setting_reset, setting_set
from countermand.websites.models import Website


def crud_permissions(app: str, model: str) -> dict[str, tuple[str, ...]]:
    view, add, change, delete = (f"{app}.{verb}_{model}" for verb in ("view", "add", "change", "delete"))
    return {
        "list": (view,),
        "retrieve": (view,),
        "create": (add,),
        "update": (change,),
        "partial_update": (change,),
        "destroy": (delete,),
    }


class AdminView(APIView):
    permission_classes = [HasAdminPermissions]
    required_permissions: dict[str, tuple[str, ...]] = {}


class AdminViewSet(viewsets.GenericViewSet):
    """CRUD over one model; lists are wrapped as `{<collection_key>: [...]}` like the original system.

    Subclasses list it before DRF's mixins, so its perform_* hooks (409 for conflicts) win.
    """

    permission_classes = [HasAdminPermissions]
    required_permissions: dict[str, tuple[str, ...]] = {}
    lookup_value_regex = r"\d+"
    collection_key = ""

    def list(self, request: Request) -> Response:
        return Response({self.collection_key: self.get_serializer(self.get_queryset(), many=True).data})

    def delete_instance(self, instance: Any) -> None:
        """Delete through the model's service where it has one (subclasses), else the row itself."""
        instance.delete()

    def perform_destroy(self, instance: Any) -> None:
        try:
            self.delete_instance(instance)
        except ProtectedError as exc:
            raise Conflict(f"{instance} is still in use and cannot be deleted.", code="IN_USE") from exc

    def perform_save(self, serializer: serializers.BaseSerializer) -> None:
        try:
            with transaction.atomic():
                serializer.save()
        except IntegrityError as exc:  # lost a race with a uniqueness check
            raise Conflict("Another record already has these values.", code="DUPLICATE") from exc

    perform_create = perform_update = perform_save


def crud_schema(tag: str, collection: type[serializers.Serializer]) -> Any:
    """Tags a viewset's operations; its list answers `collection` (a wrapper object, not an array)."""
    schemas = {
        "list": extend_schema(tags=[tag], responses={200: collection}),
        "destroy": extend_schema(tags=[tag], responses={204: None}),
        **{name: extend_schema(tags=[tag]) for name in ("retrieve", "create", "update", "partial_update")},
    }

    def decorate(viewset: type) -> type:
        return extend_schema_view(**{name: schema for name, schema in schemas.items() if hasattr(viewset, name)})(
            viewset
        )

    return decorate


@crud_schema("admin: order status mappings", s.AdminOrderStatusMappingCollectionSerializer)
class OrderStatusMappingViewSet(
    AdminViewSet,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
):
    queryset = OrderStatusMapping.objects.all()
    serializer_class = OrderStatusMappingSerializer
    required_permissions = crud_permissions("orders", "orderstatusmapping")
    collection_key = "orderStatusMappings"
    error_statuses = {"post": (409,), "put": (409,), "patch": (409,)}

    def delete_instance(self, instance: OrderStatusMapping) -> None:
        order_status_mapping_delete(mapping_id=instance.pk, actor_id=self.request.user.pk)


@crud_schema("admin: websites", s.WebsiteCollectionSerializer)
class WebsiteViewSet(AdminViewSet, mixins.CreateModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin):
    queryset = Website.objects.all()
    serializer_class = s.WebsiteSerializer
    required_permissions = crud_permissions("websites", "website")
    collection_key = "websites"
    error_statuses = {"post": (409,), "put": (409,), "patch": (409,)}


@crud_schema("admin: integration connections", s.ConnectionCollectionSerializer)
class ConnectionViewSet(
    AdminViewSet,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
):
    queryset = IntegrationConnection.objects.all()
    serializer_class = s.ConnectionSerializer
    required_permissions = crud_permissions("integration", "integrationconnection")
    collection_key = "integrationConnections"
    error_statuses = {"post": (409,), "put": (409,), "patch": (409,), "delete": (409,)}

    def delete_instance(self, instance: IntegrationConnection) -> None:
        connection_delete(connection_id=instance.pk, actor_id=self.request.user.pk)


@crud_schema("admin: job definitions", s.JobDefinitionCollectionSerializer)
class JobDefinitionViewSet(
    AdminViewSet,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
):
    queryset = JobDefinition.objects.select_related("connection").prefetch_related("parameters")
    serializer_class = s.JobDefinitionSerializer
    required_permissions = {
        **crud_permissions("integration", "jobdefinition"),
        "run": ("integration.add_integrationjob",),
    }
    collection_key = "jobDefinitions"
    error_statuses = {"post": (409,), "put": (409,), "patch": (409,), "delete": (409,)}

    def delete_instance(self, instance: JobDefinition) -> None:
        job_definition_delete(definition_id=instance.pk, actor_id=self.request.user.pk)

    @extend_schema(
        tags=["admin: job definitions"],
        operation_id="admin_jobdefinitions_run",
        request=s.JobRunSerializer,
        responses={201: s.IntegrationJobSerializer},
        description="Queue a run with these parameter values (checked against the definition's parameters).",
    )
    @action(detail=True, methods=["post"])
    def run(self, request: Request, pk: str) -> Response:
        definition = self.get_object()
        body = s.JobRunSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        job = job_run(
            definition_id=definition.pk, parameters=body.validated_data["parameters"], actor_id=request.user.pk
        )
        return Response(s.IntegrationJobSerializer(job_with_details(job.pk)).data, status=status.HTTP_201_CREATED)


def job_queryset() -> QuerySet[IntegrationJob]:
    return IntegrationJob.objects.select_related("definition", "order", "requested_by").prefetch_related("parameters")


def job_with_details(job_id: int) -> IntegrationJob:
    return job_queryset().get(pk=job_id)


class IntegrationJobViewSet(AdminViewSet, mixins.RetrieveModelMixin):
    queryset = job_queryset()
    serializer_class = s.IntegrationJobSerializer
    required_permissions = {
        "list": ("integration.view_integrationjob",),
        "retrieve": ("integration.view_integrationjob",),
        "logs": ("integration.view_integrationjob", "integration.view_integrationjoblog"),
        "retry": ("integration.change_integrationjob",),
        "cancel": ("integration.change_integrationjob",),
    }
    error_statuses = {"post": (409,)}

    @extend_schema(
        tags=["admin: integration jobs"],
        parameters=[s.JobQuerySerializer],
        responses={200: s.IntegrationJobCollectionSerializer},
        description="Job history, newest first.",
    )
    def list(self, request: Request) -> Response:
        query = s.JobQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        jobs = self.get_queryset()
        if "status" in query.validated_data:
            jobs = jobs.filter(status=query.validated_data["status"])
        if "jobDefinitionId" in query.validated_data:
            jobs = jobs.filter(definition_id=query.validated_data["jobDefinitionId"])
        page = plain_page(
            jobs.order_by("-id"), page=query.validated_data["page"], page_size=query.validated_data["pageSize"]
        )
        return Response(
            {
                "integrationJobs": self.get_serializer(page.items, many=True).data,
                "pagination": pagination_data(page),
            }
        )

    @extend_schema(tags=["admin: integration jobs"])
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        tags=["admin: integration jobs"],
        operation_id="admin_integrationjobs_logs",
        responses={200: s.IntegrationJobLogCollectionSerializer},
    )
    @action(detail=True, methods=["get"])
    def logs(self, request: Request, pk: str) -> Response:
        job = self.get_object()
        return Response({"logs": s.IntegrationJobLogSerializer(job.logs.order_by("sequence"), many=True).data})

    @extend_schema(
        tags=["admin: integration jobs"],
        operation_id="admin_integrationjobs_retry",
        request=None,
        responses={201: s.IntegrationJobSerializer},
        description="Run a Failure or Cancelled job again as a new job (same parameters and idempotency key).",
    )
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str) -> Response:
        job = self.get_object()
        new_job = job_retry(job_id=job.pk, actor_id=request.user.pk)
        return Response(self.get_serializer(job_with_details(new_job.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["admin: integration jobs"],
        operation_id="admin_integrationjobs_cancel",
        request=None,
        responses={200: s.IntegrationJobSerializer},
        description="Cancel a queued job, or ask a running one to stop instead of retrying.",
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        job = self.get_object()
        job_cancel(job_id=job.pk, actor_id=request.user.pk)
        return Response(self.get_serializer(job_with_details(job.pk)).data)


class CancellationViewSet(AdminViewSet, mixins.RetrieveModelMixin):
    queryset = CancellationRequest.objects.select_related("order", "requested_by").prefetch_related("lines")
    serializer_class = s.AdminCancellationSerializer
    required_permissions = {
        "list": ("cancellations.view_cancellationrequest",),
        "retrieve": ("cancellations.view_cancellationrequest",),
        "resend": ("cancellations.resend_cancellation",),
    }
    error_statuses = {"post": (409,)}

    @extend_schema(
        tags=["admin: cancellations"],
        parameters=[s.CancellationQuerySerializer],
        responses={200: s.CancellationCollectionSerializer},
        description="Cancellation requests, newest first. `needsAttention=true`: Failed and LocalOnly ones.",
    )
    def list(self, request: Request) -> Response:
        query = s.CancellationQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        requests = self.get_queryset()
        if "state" in query.validated_data:
            requests = requests.filter(state=query.validated_data["state"])
        if query.validated_data.get("needsAttention"):
            requests = requests.filter(state__in=CancellationRequest.NEEDS_ATTENTION_STATES)
        page = plain_page(
            requests.order_by("-created_at", "-id"),
            page=query.validated_data["page"],
            page_size=query.validated_data["pageSize"],
        )
        return Response(
            {"cancellations": self.get_serializer(page.items, many=True).data, "pagination": pagination_data(page)}
        )

    @extend_schema(tags=["admin: cancellations"])
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        tags=["admin: cancellations"],
        operation_id="admin_cancellations_resend",
        request=None,
        responses={200: s.AdminCancellationSerializer},
        description="Send a Failed or LocalOnly cancellation to the ERP again, with the same idempotency key.",
    )
    @action(detail=True, methods=["post"])
    def resend(self, request: Request, pk: str) -> Response:
        cancellation = self.get_object()
        cancellation_resend(request_id=cancellation.pk, actor=request_actor(request))
        return Response(self.get_serializer(self.get_queryset().get(pk=cancellation.pk)).data)


def setting_data(name: str, website_id: int | None, snapshot: SettingsSnapshot) -> dict:
    definition = SETTINGS[name]
    scoped_id = website_id if definition.scope == "website" else None
    resolved = snapshot.resolve(name, scoped_id)
    return {
        "name": name,
        "label": definition.display_label,
        "group": definition.group,
        "type": definition.type,
        "scope": definition.scope,
        "description": definition.description,
        "choices": list(definition.choices),
        "defaultValue": definition.default,
        "value": resolved.value,
        "websiteId": scoped_id,
        "isSet": resolved.stored,
    }


def settings_data(names: list[str], website_id: int | None) -> list[dict[str, Any]]:
    """The settings as the Admin Console shows them: the values in force and whether each is stored, one query."""
    snapshot = settings_snapshot(names=names, website_ids=[website_id] if website_id else [])
    return [setting_data(name, website_id, snapshot) for name in names]


def website_or_400(website_id: int | None) -> Website | None:
    if website_id is None:
        return None
    website = Website.objects.filter(pk=website_id).first()
    if website is None:
        raise serializers.ValidationError({"websiteId": f"There is no website {website_id}."})
    return website


def registered_setting(name: str) -> SettingDefinition:
    """The setting named in the path; an unknown name is 404 (as an unknown object would be)."""
    if name not in SETTINGS:
        raise NotFound(f"There is no setting named {name!r}.", code="SETTING_NOT_FOUND")
    return SETTINGS[name]


SETTING_NAME = OpenApiParameter(
    "name",
    str,
    OpenApiParameter.PATH,
    description="The setting's name.",
    examples=[OpenApiExample("A website setting", value="AllowCancellationRequest")],
)
WEBSITE_ID = OpenApiParameter(
    "websiteId",
    {"type": "integer", "minimum": 1, "maximum": s.INT32_MAX},
    description="Read or reset the value of this website.",
)


class SettingListView(AdminView):
    required_permissions = {"GET": ("settings.view_systemsetting",)}

    @extend_schema(
        tags=["admin: settings"],
        operation_id="admin_settings_list",
        parameters=[s.SettingQuerySerializer],
        responses={200: s.SettingCollectionSerializer},
        description="Every registered setting with the value in force (for `websiteId`, else application-wide).",
    )
    def get(self, request: Request) -> Response:
        query = s.SettingQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        website = website_or_400(query.validated_data.get("websiteId"))
        term = query.validated_data.get("name", "").lower()
        names = sorted(n for n in SETTINGS if term in n.lower())
        return Response({"settings": settings_data(names, website.pk if website else None)})


class SettingDetailView(AdminView):
    required_permissions = {
        "GET": ("settings.view_systemsetting",),
        "PUT": ("settings.change_systemsetting",),
        "DELETE": ("settings.change_systemsetting",),
    }

    def _one(self, name: str, website: Website | None) -> dict[str, Any]:
        return settings_data([name], website.pk if website else None)[0]

    @extend_schema(
        tags=["admin: settings"],
        operation_id="admin_settings_retrieve",
        parameters=[SETTING_NAME, WEBSITE_ID],
        responses={200: s.SettingSerializer},
    )
    def get(self, request: Request, name: str) -> Response:
        definition = registered_setting(name)
        query = s.SettingQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(self._one(definition.name, website_or_400(query.validated_data.get("websiteId"))))

    @extend_schema(
        tags=["admin: settings"],
        operation_id="admin_settings_update",
        parameters=[SETTING_NAME],
        request=s.SettingWriteSerializer,
        responses={200: s.SettingSerializer},
        description="Set the value (audited). With `websiteId`, the website's value of a website setting.",
    )
    def put(self, request: Request, name: str) -> Response:
        definition = registered_setting(name)
        body = s.SettingWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        website = website_or_400(body.validated_data.get("websiteId"))
        setting_set(name=definition.name, value=body.validated_data["value"], website=website, actor=request.user)
        return Response(self._one(definition.name, website))

    @extend_schema(
        tags=["admin: settings"],
        operation_id="admin_settings_reset",
        parameters=[SETTING_NAME, WEBSITE_ID],
        responses={200: s.SettingSerializer},
        description="Remove the stored value (audited): the setting falls back to the application value or default.",
    )
    def delete(self, request: Request, name: str) -> Response:
        definition = registered_setting(name)
        query = s.SettingQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        website = website_or_400(query.validated_data.get("websiteId"))
        setting_reset(name=definition.name, website=website, actor=request.user)
        return Response(self._one(definition.name, website))


ORDER_NUMBER = OpenApiParameter(
    "orderNumber",
    str,
    OpenApiParameter.PATH,
    description="The web order number or the ERP order number.",
    examples=[OpenApiExample("Web order number", value="WEB-1001"), OpenApiExample("ERP number", value="ERP-5002")],
)


def admin_order_data(order: Order, request: Request) -> dict[str, Any]:
    order = (
        Order.objects.select_related("website", "customer").prefetch_related("lines", "events__actor").get(pk=order.pk)
    )
    cancellations = order_cancellations(order)
    context = {
        "shown": orders_shown([order], actor=request_actor(request), with_lines=True),
        "cancellation": cancellations[0] if cancellations else None,
        "cancellations": cancellations,
    }
    return s.AdminOrderDetailSerializer(order, context=context).data


class AdminOrderListView(AdminView):
    required_permissions = {"GET": ("orders.view_order",), "POST": ("orders.add_order",)}
    error_statuses = {"post": (409,)}

    @extend_schema(
        tags=["admin: orders"],
        operation_id="admin_orders_list",
        parameters=[s.AdminOrderQuerySerializer],
        responses={200: s.AdminOrderCollectionSerializer},
    )
    def get(self, request: Request) -> Response:
        query = s.AdminOrderQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        orders = query.filters().apply(Order.objects.all())
        if "customerNumber" in query.validated_data:
            orders = orders.filter(customer__customer_number=query.validated_data["customerNumber"])
        if "websiteId" in query.validated_data:
            orders = orders.filter(website_id=query.validated_data["websiteId"])
        page = order_history_page(orders, page=query.validated_data["page"], page_size=query.validated_data["pageSize"])
        shown = orders_shown(page.items, actor=request_actor(request))
        return Response(
            {
                "orders": OrderSummarySerializer(page.items, many=True, context={"shown": shown}).data,
                "pagination": pagination_data(page),
            }
        )

    @extend_schema(
        tags=["admin: orders"],
        operation_id="admin_orders_import",
        request=s.OrderImportSerializer,
        responses={201: s.AdminOrderDetailSerializer},
        description="Import an order as the ERP knows it, with its lines (409 ORDER_EXISTS when it exists).",
    )
    def post(self, request: Request) -> Response:
        body = s.OrderImportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        values, lines = body.order_values()
        order = order_import(
            web_order_number=body.validated_data["webOrderNumber"],
            website=body.validated_data["websiteId"],
            customer=body.validated_data["customerNumber"],
            values=values,
            lines=lines or (),
            actor_id=request.user.pk,
            channel="api",
        )
        return Response(admin_order_data(order, request), status=status.HTTP_201_CREATED)


class AdminOrderDetailView(AdminView):
    required_permissions = {"GET": ("orders.view_order",), "PUT": ("orders.add_order",)}
    error_statuses = {"put": (409,)}

    @extend_schema(
        tags=["admin: orders"],
        operation_id="admin_orders_retrieve",
        parameters=[ORDER_NUMBER],
        responses={200: s.AdminOrderDetailSerializer},
    )
    def get(self, request: Request, orderNumber: str) -> Response:
        return Response(admin_order_data(order_get(orderNumber), request))

    @extend_schema(
        tags=["admin: orders"],
        operation_id="admin_orders_update",
        parameters=[ORDER_NUMBER],
        request=s.OrderUpdateSerializer,
        responses={200: s.AdminOrderDetailSerializer},
        description="Update an order from the ERP, e.g. its `status`. `orderLines`, when given, replace the lines.",
    )
    def put(self, request: Request, orderNumber: str) -> Response:
        order = order_get(orderNumber)
        body = s.OrderUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        values, lines = body.order_values()
        order = order_update(order_id=order.pk, values=values, lines=lines, actor_id=request.user.pk, channel="api")
        return Response(admin_order_data(order, request))


class AdminOrderCancelView(AdminView):
    required_permissions = {"POST": ("orders.change_order",)}
    error_statuses = {"post": (409, 422)}

    @extend_schema(
        tags=["admin: orders"],
        operation_id="admin_orders_cancel",
        parameters=[ORDER_NUMBER, IDEMPOTENCY_KEY_PARAMETER],
        request=s.AdminCancelSerializer,
        responses={200: s.AdminOrderDetailSerializer},
        description="Cancel for a customer (not bound by the website switch or the time window). `force` skips "
        "the status rules; it needs the force-cancel permission and a note.",
    )
    def post(self, request: Request, orderNumber: str) -> Response:
        order = order_get(orderNumber)
        body = s.AdminCancelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        actor = request_actor(request)
        if body.validated_data["force"] and not actor.may_force:
            raise PermissionDenied(
                "Forcing a cancellation needs the force-cancel permission.", code="FORCE_NOT_ALLOWED"
            )
        lines = cancel_lines_pairs(body.validated_data["lines"])
        return cancel_idempotent(
            request,
            order=order,
            lines=lines,
            cancel=lambda: order_cancel_request(
                order=order,
                actor=actor,
                channel=CancellationRequest.Channel.ADMIN,
                reason_code=body.validated_data["reason"],
                note=body.validated_data["note"],
                force=body.validated_data["force"],
                lines=lines,
            ),
            answer=lambda: admin_order_data(order, request),
        )


class SetupCheckView(AdminView):
    required_permissions = {"GET": ("settings.view_systemsetting",)}

    @extend_schema(
        tags=["admin: setup"],
        operation_id="admin_setup_check",
        responses={200: s.SetupCheckSerializer},
        description="The setup guide as a checklist: each step ok, missing (required) or warning.",
    )
    def get(self, request: Request) -> Response:
        items = setup_check()
        return Response({"complete": setup_is_complete(items), "items": [item.as_dict() for item in items]})
