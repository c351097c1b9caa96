"""Response headers that every page carries."""

from __future__ import annotations

from flask import Flask, Response, request

# No inline script or style anywhere: every script and stylesheet is a file under /static.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# The one page other sites may frame: the iframe variant of the alert widget (feeds/embed_views.py).
FRAMABLE_PATHS = frozenset({"/embed"})
CSP_FRAMABLE = CSP.replace("frame-ancestors 'none'", "frame-ancestors *")


def install_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        framable = request.path in FRAMABLE_PATHS
        response.headers.setdefault("Content-Security-Policy", CSP_FRAMABLE if framable else CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if not framable:
            response.headers.setdefault("X-Frame-Options", "DENY")
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
