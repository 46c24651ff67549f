"""The REST API's `Authorization: Bearer <token>` scheme, over the tokens of countermand/accounts."""

from __future__ import annotations

from rest_framework import authentication, exceptions

from countermand.accounts.services import TokenRejected, token_authenticate


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <token>` with a token from `POST /api/v1/auth/token`."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "The Authorization header must be: Bearer <token>.", code="token_invalid"
            )
        try:
            raw = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("The token is not valid.", code="token_invalid") from None
        try:
            token = token_authenticate(raw)
        except TokenRejected as exc:
            raise exceptions.AuthenticationFailed(exc.message, code=exc.code.lower()) from None
        return token.user, token

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'
