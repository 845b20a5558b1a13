"""Writes for accounts: personal API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.utils import timezone

from .models import ApiToken, User

TOKEN_PREFIX_CHARS = 8
# last_used_at is for the user's eyes; writing it on every request would cost a write per call.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def api_token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token and its secret. The secret is not stored: the caller shows it once."""
    secret = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name.strip()[:100],
        prefix=secret[:TOKEN_PREFIX_CHARS],
        key_hash=api_token_hash(secret),
    )
    return token, secret


def api_token_revoke(*, token: ApiToken) -> None:
    token.delete()


def api_token_authenticate(*, secret: str) -> ApiToken | None:
    """The active token with this secret (its user loaded), or None. Records when it was last used."""
    token = ApiToken.objects.select_related("user").filter(key_hash=api_token_hash(secret)).first()
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
