"""`/api/v1/auth/token`: trade a user name and password for a bearer token, or revoke it."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from countermand.accounts.models import ApiToken
from countermand.accounts.services import credentials_check, token_issue, token_revoke
from countermand.api.errors import error_body
from countermand.api.serializers import TokenRequestSerializer, TokenSerializer
from countermand.orders.actors import actor_for_user


class TokenView(APIView):
    error_statuses = {"post": (401, 429)}

    def perform_authentication(self, request: Request) -> None:
        # Signing in must work even when the client still sends an expired token.
        if request.method != "POST":
            super().perform_authentication(request)

    def get_permissions(self):
        return [AllowAny()] if self.request.method == "POST" else [IsAuthenticated()]

    @extend_schema(
        tags=["auth"],
        operation_id="auth_token_create",
        request=TokenRequestSerializer,
        responses={201: TokenSerializer},
        auth=[],
        description="Sign in. Five failed attempts for a user name from one address within 15 minutes block "
        "that name from that address with 429 LOGIN_THROTTLED until the window passes; fifty for a name from all "
        "addresses block the name, twenty from one address for any names block the address.",
    )
    def post(self, request: Request) -> Response:
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = credentials_check(
            request=request._request, username=data.validated_data["username"], password=data.validated_data["password"]
        )
        actor_for_user(user)  # a buyer of an inactive customer gets no token: 401 USER_INACTIVE
        raw, token = token_issue(user=user)
        return Response({"token": raw, "expiresAt": token.expires_at}, status=status.HTTP_201_CREATED)

    @extend_schema(tags=["auth"], operation_id="auth_token_revoke", request=None, responses={204: None})
    def delete(self, request: Request) -> Response:
        if not isinstance(request.auth, ApiToken):
            return Response(
                error_body("NOT_A_TOKEN", "Send the token to revoke as `Authorization: Bearer <token>`."),
                status=status.HTTP_400_BAD_REQUEST,
            )
        token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)
