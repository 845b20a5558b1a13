"""`Authorization: Token <secret>` with the personal tokens users create on /accounts/tokens/."""

from __future__ import annotations

from rest_framework import authentication, exceptions
from rest_framework.request import Request

from accounts.models import ApiToken, User
from accounts.services import api_token_authenticate

KEYWORD = "Token"


class ApiTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD.lower().encode():
            return None  # not ours: the session may still authenticate the request
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Send the header as “Authorization: Token <secret>”.")
        try:
            secret = parts[1].decode()
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("The token contains invalid characters.") from None
        token = api_token_authenticate(secret=secret)
        if token is None:
            raise exceptions.AuthenticationFailed(
                "This token is unknown or was revoked. Create a new one on /accounts/tokens/."
            )
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        # Listed first in the settings, so unauthenticated requests get 401 with this challenge, not 403.
        return KEYWORD
