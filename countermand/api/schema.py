"""OpenAPI generation: the bearer-token scheme and the error responses every operation can give."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework.permissions import AllowAny

from countermand.api.errors import ErrorSerializer

ERROR_DESCRIPTIONS = {
    "400": "Bad input: `VALIDATION_FAILED` with `fields`, or a domain code such as `INVALID_REASON`.",
    "401": "Not signed in, or the token is unknown or expired.",
    "403": "Signed in, but not allowed (not a buyer, or missing a permission).",
    "404": "No such object — or one the caller may not see (another customer's order).",
    "409": "Conflict with the current state: `ORDER_NOT_CANCELLABLE` with `blockers`, duplicates, objects in use.",
    "429": "Too many failed sign-ins: `LOGIN_THROTTLED` with `retryAfter`.",
    "422": "`IDEMPOTENCY_KEY_REUSED`: the `Idempotency-Key` was sent before with a different request.",
}


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "countermand.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A token from `POST /api/v1/auth/token`, sent as `Authorization: Bearer <token>`.",
        }


def _links(source: str, targets: tuple[str, ...], parameter: str, *, prefix: str = "") -> dict[str, dict[str, Any]]:
    """OpenAPI links from one response to operations that take `parameter` from it (`prefix`: where in the
    body the object is, e.g. `/orders/0` for a list's first item)."""
    return {
        target: {"operationId": target, "parameters": {parameter: f"$response.body#{prefix}/{source}"}}
        for target in targets
    }


def _crud_links(kind: str, collection: str, *extra: str) -> dict[tuple[str, str], dict[str, dict[str, Any]]]:
    """Links of a model's CRUD operations: from the created object and the list's first item to the others."""
    targets = tuple(f"admin_{kind}_{action}" for action in ("retrieve", "update", "partial_update", "destroy"))
    targets += extra
    return {
        (f"admin_{kind}_create", "201"): _links("id", targets, "id"),
        (f"admin_{kind}_list", "200"): _links("id", targets, "id", prefix=f"/{collection}/0"),
    }


# The OpenAPI links between operations (schemathesis' stateful tests follow them; clients may too).
# An operation not produced by the schema (a typo here) fails test_the_schema_links_name_real_operations.
ORDER_TARGETS = ("orders_retrieve", "orders_partial_update", "orders_cancel")
ADMIN_ORDER_TARGETS = ("admin_orders_retrieve", "admin_orders_update", "admin_orders_cancel")
JOB_TARGETS = ("admin_integrationjobs_retrieve", "admin_integrationjobs_logs", "admin_integrationjobs_cancel")
LINKS: dict[tuple[str, str], dict[str, dict[str, Any]]] = {
    ("orders_list", "200"): _links("webOrderNumber", ORDER_TARGETS, "orderNumber", prefix="/orders/0"),
    ("orders_retrieve", "200"): _links("webOrderNumber", ORDER_TARGETS[1:], "orderNumber"),
    ("admin_orders_list", "200"): _links("webOrderNumber", ADMIN_ORDER_TARGETS, "orderNumber", prefix="/orders/0"),
    ("admin_orders_import", "201"): _links("webOrderNumber", ADMIN_ORDER_TARGETS, "orderNumber"),
    ("admin_orders_retrieve", "200"): _links("webOrderNumber", ADMIN_ORDER_TARGETS[1:], "orderNumber"),
    ("admin_settings_list", "200"): _links(
        "name",
        ("admin_settings_retrieve", "admin_settings_update", "admin_settings_reset"),
        "name",
        prefix="/settings/0",
    ),
    **_crud_links("websites", "websites"),
    **_crud_links("orderstatusmappings", "orderStatusMappings"),
    **_crud_links("integrationconnections", "integrationConnections"),
    **_crud_links("jobdefinitions", "jobDefinitions", "admin_jobdefinitions_run"),
    ("admin_jobdefinitions_run", "201"): _links("id", JOB_TARGETS, "id"),
    ("admin_integrationjobs_list", "200"): _links(
        "id", (*JOB_TARGETS, "admin_integrationjobs_retry"), "id", prefix="/integrationJobs/0"
    ),
    ("admin_cancellations_list", "200"): _links(
        "id", ("admin_cancellations_retrieve", "admin_cancellations_resend"), "id", prefix="/cancellations/0"
    ),
    **_crud_links("customers", "customers"),
    **_crud_links("buyers", "buyers", "admin_buyers_invite"),
}
# An id-based CRUD list has no `destroy` for websites and settings; keep only operations that exist.
WITHOUT = {"admin_websites_destroy", "admin_customers_destroy", "admin_buyers_destroy"}
for _key, _links_of in LINKS.items():
    LINKS[_key] = {name: link for name, link in _links_of.items() if name not in WITHOUT}


class CountermandAutoSchema(AutoSchema):
    """Adds the error responses (one ErrorSerializer body) an operation can give to what it declares:
    400 always, 401/403 unless it is open to anyone, 404 when its path names an object; views list
    further ones (409, 429) in `error_statuses`."""

    def _error_statuses(self) -> list[str]:
        statuses = ["400"]
        if not all(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            statuses += ["401", "403"]
        if "{" in self.path:
            statuses.append("404")
        extra = getattr(self.view, "error_statuses", {})
        statuses += [str(s) for s in extra.get(self.method.lower(), ())]
        return statuses

    def get_operation(self, *args: Any, **kwargs: Any) -> Any:
        operation = super().get_operation(*args, **kwargs)
        if operation:
            for status, response in operation.get("responses", {}).items():
                links = LINKS.get((operation.get("operationId", ""), status))
                if links:
                    response["links"] = links
        return operation

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for status in self._error_statuses():
            if status not in responses:
                responses[status] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[status]),
                    status,
                    direction=direction,
                )
        return responses
