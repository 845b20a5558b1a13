"""Writes for accounts: personal API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .models import ApiToken, User

TOKEN_PREFIX_CHARS = 8
# last_used_at is for the user's eyes; writing it on every request would cost a write per call.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Enough for a few machines and scripts; a cap keeps a stolen session from minting tokens without
# end, and keeps the tokens page a list a person can check.
TOKENS_PER_USER = 10


class TokenLimitReached(Exception):
    def __init__(self) -> None:
        super().__init__(
            f"You already have {TOKENS_PER_USER} tokens, the most an account may hold. "
            "Revoke one you no longer use, then create the new one."
        )


def api_token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token and its secret. The secret is not stored: the caller shows it once.
    Raises TokenLimitReached when the user already holds TOKENS_PER_USER tokens."""
    # Lock the user's row so two simultaneous requests cannot both pass the count.
    User.objects.select_for_update().filter(pk=user.pk).first()
    if ApiToken.objects.filter(user=user).count() >= TOKENS_PER_USER:
        raise TokenLimitReached
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


def api_tokens_revoke_all(*, user: User) -> int:
    """Revoke every token of the user, as a new password does: a token taken together with the
    old password must not outlive it. Returns how many were revoked."""
    revoked, _ = ApiToken.objects.filter(user=user).delete()
    return revoked


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
