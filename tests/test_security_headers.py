"""Security headers on every answer, a strict CSP on our pages, and trusted proxies."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from webhooks.config import load_settings


def test_every_answer_refuses_sniffing_and_framing(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    for path in ("/healthz", "/api/v1/referrals", "/coordinator/login", "/try/"):
        headers = client.get(path).headers
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["X-Frame-Options"] == "DENY", path
        assert headers["Referrer-Policy"] == "same-origin", path
        assert "Strict-Transport-Security" not in headers  # plain http here


def test_our_pages_allow_no_inline_script_or_style(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    for path in ("/coordinator/login", "/try/"):
        policy = client.get(path).headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "style-src 'self'" in policy, path
        assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
        page = client.get(path).text
        assert "style=" not in page and "<script>" not in page, path


def test_https_deployments_get_hsts(make_app: Callable[..., Flask]) -> None:
    client = make_app(RJ_PUBLIC_BASE_URL="https://rj.example.org").test_client()
    assert client.get("/healthz").headers["Strict-Transport-Security"].startswith("max-age=")


def test_behind_a_trusted_proxy_the_client_address_is_the_forwarded_one(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(RJ_TRUSTED_PROXIES="1")
    seen: list[str | None] = []

    @app.get("/_who")
    def who() -> str:
        from flask import request

        seen.append(request.remote_addr)
        return "ok"

    app.test_client().get("/_who", headers={"X-Forwarded-For": "203.0.113.7"})
    untrusted = make_app()
    untrusted.add_url_rule("/_who", view_func=who)
    untrusted.test_client().get("/_who", headers={"X-Forwarded-For": "203.0.113.7"})
    assert seen == ["203.0.113.7", "127.0.0.1"]


@pytest.mark.parametrize("value", ["yes", "-1", "9"])
def test_a_bad_proxy_count_is_refused_at_start(environ: dict[str, str], value: str) -> None:
    with pytest.raises(ValueError, match="RJ_TRUSTED_PROXIES"):
        load_settings({**environ, "RJ_TRUSTED_PROXIES": value})
