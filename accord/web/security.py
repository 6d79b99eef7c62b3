"""Sessions in signed HttpOnly SameSite=Lax cookies, CSRF tokens on every form, security headers, body limits."""
from __future__ import annotations

import hmac
import secrets

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

SESSION_COOKIE = "accord_session"
PRE_COOKIE = "accord_pre"            # a sign-in form's CSRF pair before there is a session
MAX_BODY = 64 * 1024

HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                                "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; "
                                "base-uri 'none'; object-src 'none'"),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class BodyLimit:
    """Bodies over MAX_BODY refused with 413 before the app reads them, whether announced by Content-Length
    or sent in chunks: the body (at most MAX_BODY bytes) is read here and handed on whole."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or ())
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            return await _too_large(scope, receive, send)
        if length is None and b"transfer-encoding" not in headers:
            return await self.app(scope, receive, send)
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return     # the client went away
            size += len(message.get("body", b""))
            if size > MAX_BODY:
                return await _too_large(scope, receive, send)
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()
        await self.app(scope, replay, send)


async def _too_large(scope, receive, send) -> None:
    response = PlainTextResponse("request body too large: at most 64 KiB", status_code=413,
                                 headers={"Connection": "close", **HEADERS})
    await response(scope, receive, send)


class Guard(BaseHTTPMiddleware):
    """Security headers on every answer, no-store on every private one."""

    async def dispatch(self, request: Request, call_next) -> Response:
        response = await call_next(request)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        return response


def same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


def new_pre_token() -> str:
    return secrets.token_urlsafe(24)
