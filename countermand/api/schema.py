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
