"""Writes for accounts: personal API tokens, password reset mail, e-mailed sign-in links."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

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


# --- Sign-in links by e-mail --------------------------------------------------------------------------
# Offered on the sign-in page to a browser that is not known for an account under attack
# (accounts.ratelimit.login_link_offered): the owner gets in without the password's slowdown.

LOGIN_LINK_TASK = "accounts.login_link_send"
LOGIN_LINK_SALT = "accounts.services.login_link"
LOGIN_LINK_EMAIL_TEMPLATE = "registration/login_link_email.txt"
LOGIN_LINK_SUBJECT = "Your Seven/Four sign-in link"


def login_link_request(*, username: str, domain: str, use_https: bool) -> None:
    """Queue the sign-in link for a username, on the I/O queue. As for the password reset, the
    request does the same work whether or not an account has the name: the worker looks it up."""
    task_send(LOGIN_LINK_TASK, username, domain, use_https, waiting="a sign-in link is not sent")


def login_link_send(*, username: str, domain: str, use_https: bool) -> None:
    """Mail a sign-in link to the active account with this username, if it has an e-mail address;
    to no one otherwise."""
    user = User.objects.filter(username=username, is_active=True).exclude(email="").first()
    if user is None:
        return
    path = reverse("accounts:login_link_confirm", args=[login_link_token(user=user)])
    body = render_to_string(
        LOGIN_LINK_EMAIL_TEMPLATE,
        {
            "user": user,
            "url": f"{'https' if use_https else 'http'}://{domain}{path}",
            "minutes": settings.LOGIN_LINK_MAX_AGE // 60,
        },
    )
    send_mail(LOGIN_LINK_SUBJECT, body, None, [user.email])


def _login_state(user: User) -> str:
    """Changes when the user signs in (last_login) or sets a password: a link made before either
    no longer matches, which makes each link single-use."""
    last_login = user.last_login.isoformat() if user.last_login else ""
    return salted_hmac(LOGIN_LINK_SALT, f"{user.pk}:{user.password}:{last_login}").hexdigest()[:32]


def login_link_token(*, user: User) -> str:
    """A signed, timestamped token for the user's current state (django.core.signing)."""
    return signing.dumps([user.pk, _login_state(user)], salt=LOGIN_LINK_SALT)


def login_link_user(*, token: str) -> User | None:
    """The user a token was made for, while it is younger than LOGIN_LINK_MAX_AGE and unused."""
    try:
        pk, state = signing.loads(token, salt=LOGIN_LINK_SALT, max_age=settings.LOGIN_LINK_MAX_AGE)
    except (signing.BadSignature, ValueError, TypeError):  # SignatureExpired is a BadSignature
        return None
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None or not constant_time_compare(state, _login_state(user)):
        return None
    return user


def login_link_redeem(*, token: str) -> User | None:
    """Use a token: the user to sign in, or None when it is bad, expired or already used. Its
    use is a conditional UPDATE of last_login, so two requests racing with one link cannot both
    get in."""
    user = login_link_user(token=token)
    if user is None:
        return None
    now = timezone.now()
    if not User.objects.filter(pk=user.pk, last_login=user.last_login).update(last_login=now):
        return None
    user.last_login = now
    return user
