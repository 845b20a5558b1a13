"""Writes for accounts: personal API tokens, password reset mail."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.forms import PasswordResetForm
from django.db import transaction
from django.utils import timezone

from core.jobs import task_send

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


# --- Password reset by e-mail -----------------------------------------------------------------------

PASSWORD_RESET_TASK = "accounts.password_reset_send"
PASSWORD_RESET_EMAIL_TEMPLATE = "registration/password_reset_email.txt"
PASSWORD_RESET_SUBJECT_TEMPLATE = "registration/password_reset_subject.txt"


def password_reset_request(*, email: str, domain: str, use_https: bool) -> None:
    """Queue the reset mail for an address, on the I/O queue. The request does the same work for
    every address, so how long it takes does not tell whether an account has it (issue 28.6): the
    look-up and the sending happen in the worker. With the broker down no mail goes (logged)."""
    task_send(PASSWORD_RESET_TASK, email, domain, use_https, waiting="a password reset mail is not sent")


def password_reset_send(*, email: str, domain: str, use_https: bool) -> None:
    """Mail a reset link to each active account with this address that has a usable password
    (Django's PasswordResetForm rules and one-time tokens); to no one if none has it."""
    form = PasswordResetForm({"email": email})
    if form.is_valid():
        form.save(
            domain_override=domain,
            use_https=use_https,
            email_template_name=PASSWORD_RESET_EMAIL_TEMPLATE,
            subject_template_name=PASSWORD_RESET_SUBJECT_TEMPLATE,
        )
