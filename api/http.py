"""The request type of an API view, for annotations."""

from __future__ import annotations

from rest_framework.request import Request

from accounts.models import User


class AuthenticatedRequest(Request):
    """A request that passed DRF's default permission, IsAuthenticated: its user is signed in
    (Request's own type allows an anonymous user)."""

    user: User
