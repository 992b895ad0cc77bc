"""Security policy for every response (headers, CSP) and the CSRF protection of state-changing requests.

CSRF: each browser gets a random secret in a cookie; forms carry an HMAC of it (see `app.security`), and htmx
sends the same token in the X-CSRF-Token header. Cross-site requests are also refused by their Origin or
Sec-Fetch-Site headers. The JSON API is not cookie-authenticated, so it needs no CSRF token.
"""

from urllib.parse import urlsplit

from fastapi import Request
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import security
from app.config import get_settings
from app.errors import NotAllowed

CSRF_COOKIE = "si_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
CSRF_PROBLEM = "This form has expired or did not come from this service. Go back, reload the page and try again."


class SecurityMiddleware:
    """Adds the security headers to every response and gives each browser its CSRF secret."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = get_settings()
        existing = HTTPConnection(scope).cookies.get(CSRF_COOKIE)
        csrf_secret = existing if existing and len(existing) >= 32 else security.new_csrf_secret()
        scope.setdefault("state", {})["csrf_secret"] = csrf_secret

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "same-origin")
                headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
                headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
                if settings.uses_https:
                    headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
                if csrf_secret != existing:
                    secure = "; Secure" if settings.uses_https else ""
                    headers.append("Set-Cookie", f"{CSRF_COOKIE}={csrf_secret}; Path=/; HttpOnly; SameSite=Lax{secure}")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _cross_site(request: Request) -> bool:
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        return True
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin == "null"
    allowed = {urlsplit(get_settings().BASE_URL).netloc, request.headers.get("Host", "")}
    return urlsplit(origin).netloc not in allowed


async def csrf_protect(request: Request) -> None:
    """Refuse a state-changing request without this browser's CSRF token, or from another site."""
    if request.method in SAFE_METHODS:
        return
    if _cross_site(request):
        raise NotAllowed(CSRF_PROBLEM)
    submitted = request.headers.get(CSRF_HEADER)
    if submitted is None:
        content_type = request.headers.get("Content-Type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            value = (await request.form()).get(CSRF_FIELD)
            submitted = value if isinstance(value, str) else None
    if not security.csrf_token_matches(submitted, request.state.csrf_secret, secret=get_settings().SECRET_KEY):
        raise NotAllowed(CSRF_PROBLEM)


def safe_next_path(value: str | None, default: str = "/") -> str:
    """A local path to go to after signing in; anything else (another site, a scheme) becomes `default`."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    return value
