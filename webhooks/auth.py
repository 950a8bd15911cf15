"""Bearer-token authentication and scopes for the JSON API."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request

from case_store.tokens import find_token
from webhooks.errors import ApiError
from webhooks.runtime import current_runtime

F = TypeVar("F", bound=Callable[..., Any])


def _presented_token() -> str:
    """The token from `Authorization: Bearer ...`, or a 401."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "Send Authorization: Bearer <token>.")
    return token.strip()


def require_scope(scope: str) -> Callable[[F], F]:
    """Let the request through only with a live token that carries `scope`."""

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            runtime = current_runtime()
            token = _presented_token()
            with runtime.db.transaction() as session:
                row = find_token(session, token)
                if row is None:
                    raise ApiError(401, "unauthorized", "The token is not valid.")
                if scope not in row.scope_set:
                    raise ApiError(403, "forbidden", f"The token lacks the {scope} scope.")
                row.last_used_at = runtime.conversations.clock()
                g.token_id, g.actor = row.id, f"token:{row.name}"
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorate
