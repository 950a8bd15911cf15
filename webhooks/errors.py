"""Errors answered as JSON for APIs and machines, as short HTML pages for people."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template_string, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{{ code }} {{ name }}</title></head>
<body><h1>{{ name }}</h1><p>{{ message }}</p></body></html>"""


class ApiError(Exception):
    """An error with a status code, a machine code, a message and per-field details."""

    def __init__(
        self, status: int, code: str, message: str, fields: dict[str, str] | None = None
    ) -> None:
        """Describe the error."""
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields or {}


def wants_json() -> bool:
    """True for API paths and clients that prefer JSON over HTML."""
    if request.path.startswith(("/api/", "/webhooks/", "/healthz")):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def error_response(
    status: int, code: str, message: str, fields: dict[str, str] | None = None
) -> Response:
    """The error in the form the client wants."""
    if wants_json():
        body = {"error": {"code": code, "message": message, "fields": fields or {}}}
        response = jsonify(body)
    else:
        html = render_template_string(
            PAGE, code=status, name=code.replace("_", " "), message=message
        )
        response = Response(html, mimetype="text/html")
    response.status_code = status
    return response


def _http_error(exc: HTTPException) -> Response:
    """Werkzeug's HTTP errors in our shape."""
    code = (exc.name or "error").lower().replace(" ", "_")
    return error_response(exc.code or 500, code, exc.description or "")


def _database_unavailable(exc: OperationalError) -> Response:
    """The database is down or locked: 503, so Twilio and Telegram retry later."""
    log.error("database unavailable: %s", type(exc.orig).__name__ if exc.orig else "unknown")
    response = error_response(503, "database_unavailable", "Please try again shortly.")
    response.headers["Retry-After"] = "5"
    return response


def _unexpected(exc: Exception) -> Response:
    """Anything else: logged with its traceback, answered without details."""
    log.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, "internal_error", "Something went wrong on our side.")


def register_error_handlers(app: Flask) -> None:
    """Install the handlers on `app`."""
    app.register_error_handler(
        ApiError, lambda e: error_response(e.status, e.code, e.message, e.fields)
    )
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(Exception, _unexpected)
