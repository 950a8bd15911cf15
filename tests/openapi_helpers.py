"""The operations the service's OpenAPI document describes, for the schemathesis tests."""

from __future__ import annotations

import schemathesis
from flask import Flask
from schemathesis.core.result import Err


def operations(app: Flask) -> list[schemathesis.APIOperation]:
    """Every operation in /api/v1/openapi.json; one schemathesis cannot read is an error.

    get_all_operations() yields an Ok or an Err per operation; only an Ok has .ok(), so an
    Err is raised as the schema error it holds (not an AttributeError hiding it).
    """
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    found = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        found.append(result.ok())
    return found
