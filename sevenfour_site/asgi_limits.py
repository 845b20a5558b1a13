"""The request body cap for ASGI servers (issue 18.3); WSGI gets it from RequestBodyLimitMiddleware."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from django.conf import settings

from core.http import declared_content_length

from .middleware import body_too_large_response

# The shapes Django's ASGIHandler accepts, so that it can be wrapped as it is.
Scope = dict[str, Any]
Message = Mapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyTooLarge(Exception):
    pass


class BodyLimitASGI:
    """Refuse a body over REQUEST_BODY_MAX_BYTES: at once when Content-Length says so, and as soon
    as a body without one (chunked) has streamed past the cap."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = settings.REQUEST_BODY_MAX_BYTES
        headers = {name.lower(): value for name, value in scope.get("headers", [])}
        declared = declared_content_length(headers.get(b"content-length"))
        if declared is not None and declared > limit:
            await self._refuse(scope, headers, send, limit)
            return
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, counted_receive, send)
        except BodyTooLarge:
            # Django reads the whole body before it starts a response, so none has begun.
            await self._refuse(scope, headers, send, limit)

    @staticmethod
    async def _refuse(scope: Scope, headers: dict[bytes, bytes], send: Send, limit: int) -> None:
        accept = headers.get(b"accept", b"").decode("latin-1")
        response = body_too_large_response(scope.get("path", ""), accept, limit)
        response["Content-Length"] = str(len(response.content))
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.items()],
            }
        )
        await send({"type": "http.response.body", "body": response.content})
