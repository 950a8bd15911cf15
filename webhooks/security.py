"""Browser-facing protections: security headers on every answer, and trusted proxies.

Every answer says: no sniffing, no framing, referrer only to this site. Our own pages
(the dashboard and /try/) also carry a strict Content-Security-Policy: scripts, styles and
images from this site only, no inline script or style. HTTPS deployments get HSTS.

Behind a reverse proxy (RJ_TRUSTED_PROXIES=1, say), werkzeug's ProxyFix takes the client
address and scheme from X-Forwarded-For and -Proto, so the login and /try/ rate limits count
each person, not the proxy. Never set it without a proxy: anyone could then pick their own
address.
"""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

from webhooks.config import Settings

PAGE_PREFIXES = ("/coordinator", "/try")
CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)
HSTS = "max-age=31536000"


def init_security(app: Flask, settings: Settings) -> None:
    """Trust `settings.trusted_proxies` proxies, and add the headers to every answer."""
    if settings.trusted_proxies:
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    https = settings.public_base_url.startswith("https://")

    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        if request.path.startswith(PAGE_PREFIXES):
            headers.setdefault("Content-Security-Policy", CSP)
        if https:
            headers.setdefault("Strict-Transport-Security", HSTS)
        return response
