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


class Guard(BaseHTTPMiddleware):
    """Security headers on every answer, no-store on every private one; oversized bodies refused (413)."""

    async def dispatch(self, request: Request, call_next) -> Response:
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            response: Response = PlainTextResponse("request body too large: at most 64 KiB", status_code=413)
        else:
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
