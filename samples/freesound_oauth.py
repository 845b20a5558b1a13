"""Users' own Freesound accounts, for original files (OAuth2 authorization-code grant, as in
docs/api-notes.md D.1): the authorize URL with a state bound to the session, the code exchanged
for tokens, the tokens kept encrypted (Fernet), an expired access token refreshed, disconnecting.

Freesound's endpoints: `GET <oauth>/authorize/?client_id=…&response_type=code&state=…` (Freesound
sends the user back to the callback URL registered with the API credentials, with `code` and
`state`), and `POST <oauth>/access_token/` (client_id, client_secret, grant_type=authorization_code
with code, or grant_type=refresh_token with refresh_token) → access_token, refresh_token, scope,
expires_in (86399 s). Codes live 10 minutes, access tokens 24 hours.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import secrets
import time
from collections.abc import MutableMapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urljoin

import requests
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from pydantic import BaseModel, ConfigDict, ValidationError

from accounts.models import User

from .freesound import FreesoundError, Throttled, Unavailable
from .models import FreesoundAccount

log = logging.getLogger(__name__)

SESSION_STATE = "freesound_oauth_state"
# A state older than a code's life (10 minutes) is refused: the user started over elsewhere.
STATE_MAX_AGE_S = 10 * 60
# An access token with less than this left is refreshed before use (a ZIP of large originals
# may take minutes).
REFRESH_MARGIN = timedelta(minutes=10)
_HKDF_INFO = b"sevenfour freesound oauth tokens v1"


class NotConnected(FreesoundError):
    def __init__(self, message: str = "", *, detail: str = "") -> None:
        super().__init__(
            message or "Connect your Freesound account (Account menu → Freesound) to download originals.",
            detail=detail,
        )


class ConnectionLost(NotConnected):
    """Freesound no longer accepts the stored tokens (access removed there, or our key changed):
    the connection was deleted and the user must connect again."""

    def __init__(self, *, detail: str = "") -> None:
        super().__init__(
            "Freesound no longer accepts your account's connection (it was removed on Freesound, or "
            "has expired); connect it again to download originals.",
            detail=detail,
        )


class OAuthRefused(FreesoundError):
    """The token endpoint refused the code or the refresh token (400/401)."""

    def __init__(self, *, detail: str = "") -> None:
        super().__init__("Freesound did not accept the connection; please try again.", detail=detail)


def oauth_enabled() -> bool:
    """Whether this site has OAuth2 credentials for Freesound (else: previews only)."""
    return bool(settings.FREESOUND_CLIENT_ID and settings.FREESOUND_CLIENT_SECRET)


def account_connected(*, user: User | Any) -> bool:
    if not oauth_enabled() or not getattr(user, "is_authenticated", False):
        return False
    return FreesoundAccount.objects.filter(user=user).exists()


# --- Encryption at rest ---------------------------------------------------------------------------


def _fernet() -> MultiFernet:
    """FREESOUND_TOKEN_KEY (one Fernet key, or several separated by commas: the first encrypts,
    all decrypt, for rotation); without it, a key derived from SECRET_KEY with HKDF-SHA256."""
    keys = [k.strip() for k in settings.FREESOUND_TOKEN_KEY.split(",") if k.strip()]
    if not keys:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
            settings.SECRET_KEY.encode()
        )
        keys = [base64.urlsafe_b64encode(derived).decode()]
    return MultiFernet([Fernet(key) for key in keys])


def token_encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def token_decrypt(stored: str) -> str:
    """The secret; InvalidToken when the column was written with another key or tampered with."""
    return _fernet().decrypt(stored.encode()).decode()


# --- The authorization-code flow ------------------------------------------------------------------


def authorize_url(*, session: MutableMapping[str, Any]) -> str:
    """Freesound's authorize page for this site, with a fresh state kept in the user's session
    (one at a time: starting again replaces it)."""
    state = secrets.token_urlsafe(32)
    session[SESSION_STATE] = {"state": state, "at": time.time()}
    query = urlencode({"client_id": settings.FREESOUND_CLIENT_ID, "response_type": "code", "state": state})
    return f"{urljoin(settings.FREESOUND_OAUTH_URL, 'authorize/')}?{query}"


def state_take(*, session: MutableMapping[str, Any], state: str) -> bool:
    """Whether `state` is the one this session was sent with, recently. Used once: taken from
    the session whatever the answer, so a callback cannot be replayed."""
    saved = session.pop(SESSION_STATE, None)
    if not isinstance(saved, dict) or not state:
        return False
    expected, at = str(saved.get("state", "")), float(saved.get("at", 0))
    return secrets.compare_digest(expected.encode(), state.encode()) and time.time() - at <= STATE_MAX_AGE_S


class _Tokens(BaseModel):
    model_config = ConfigDict(extra="ignore")

    access_token: str
    refresh_token: str
    expires_in: int = 86399
    scope: str = ""


def _token_request(data: dict[str, str]) -> _Tokens:
    url = urljoin(settings.FREESOUND_OAUTH_URL, "access_token/")
    form = {
        "client_id": settings.FREESOUND_CLIENT_ID,
        "client_secret": settings.FREESOUND_CLIENT_SECRET,
        **data,
    }
    try:
        response = requests.post(
            url,
            data=form,
            timeout=(settings.FREESOUND_CONNECT_TIMEOUT, settings.FREESOUND_READ_TIMEOUT),
            allow_redirects=False,
            headers={"Accept": "application/json"},
        )
    except requests.RequestException as exc:
        raise Unavailable(detail=repr(exc)) from exc
    status = response.status_code
    # The body may echo what was sent: log the status and the error code only.
    detail = f"HTTP {status} from {url}"
    if status in (400, 401):
        with contextlib.suppress(ValueError, AttributeError):
            detail += f": {response.json().get('error', '')}"
        raise OAuthRefused(detail=detail)
    if status == 429:
        raise Throttled(60, detail=detail)
    if status >= 300:
        raise Unavailable(detail=detail)
    try:
        return _Tokens.model_validate(response.json())
    except (ValueError, ValidationError) as exc:
        raise Unavailable(detail=f"{detail}: unexpected token response") from exc


def _token_fields(tokens: _Tokens) -> dict[str, Any]:
    return {
        "access_token_encrypted": token_encrypt(tokens.access_token),
        "refresh_token_encrypted": token_encrypt(tokens.refresh_token),
        "expires_at": timezone.now() + timedelta(seconds=max(tokens.expires_in, 0)),
        "scope": tokens.scope[:200],
    }


def account_connect(*, user: User, code: str) -> FreesoundAccount:
    """Exchange the callback's code for tokens and keep them (replacing an older connection)."""
    tokens = _token_request({"grant_type": "authorization_code", "code": code})
    account, _ = FreesoundAccount.objects.update_or_create(
        user=user, defaults={**_token_fields(tokens), "refreshed_at": None}
    )
    return account


def account_disconnect(*, user: User) -> bool:
    """Forget the user's tokens. True when there was a connection."""
    deleted, _ = FreesoundAccount.objects.filter(user=user).delete()
    return deleted > 0


def access_token(*, user: User) -> str:
    """A working access token for the user's Freesound account, refreshed first when it has
    expired or soon will. Raises NotConnected, or ConnectionLost (the connection is then deleted)
    when Freesound refuses the refresh token or the stored tokens cannot be decrypted."""
    if not oauth_enabled():
        raise NotConnected("This site is not set up for Freesound accounts; previews only.")
    account = FreesoundAccount.objects.filter(user=user).first()
    if account is None:
        raise NotConnected()
    if account.expires_at - REFRESH_MARGIN > timezone.now():
        return _decrypted_or_lost(account, account.access_token_encrypted)
    lost: ConnectionLost | None = None
    with transaction.atomic():
        # One refresh at a time: Freesound rotates refresh tokens, so a second refresh with the
        # same one would fail and disconnect the user.
        locked = FreesoundAccount.objects.select_for_update().filter(pk=account.pk).first()
        if locked is None:
            raise NotConnected()
        if locked.expires_at - REFRESH_MARGIN > timezone.now():  # refreshed meanwhile
            return _decrypted_or_lost(locked, locked.access_token_encrypted)
        try:
            refresh = token_decrypt(locked.refresh_token_encrypted)
            tokens = _token_request({"grant_type": "refresh_token", "refresh_token": refresh})
        except (InvalidToken, OAuthRefused) as exc:
            locked.delete()
            lost = ConnectionLost(detail=getattr(exc, "detail", "") or exc.__class__.__name__)
        else:
            for name, value in _token_fields(tokens).items():
                setattr(locked, name, value)
            locked.refreshed_at = timezone.now()
            locked.save()
            return tokens.access_token
    log.info("Freesound connection of user %s lost: %s", user.pk, lost.detail)
    raise lost


def _decrypted_or_lost(account: FreesoundAccount, stored: str) -> str:
    try:
        return token_decrypt(stored)
    except InvalidToken as exc:
        account.delete()
        raise ConnectionLost(detail="stored token cannot be decrypted (key changed?)") from exc


def connection_lost(*, user: User, detail: str) -> None:
    """Freesound refused a fresh access token (401): the user removed the app's access there."""
    FreesoundAccount.objects.filter(user=user).delete()
    log.info("Freesound connection of user %s lost: %s", user.pk, detail)
