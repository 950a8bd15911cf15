"""The minimal reference: a bare Flask endpoint that checks the Twilio signature, writes one
row with SQLAlchemy and answers TwiML. It uses SQLAlchemy's and SQLite's defaults, as a
first version of such an endpoint would; it runs under the same waitress settings.

    python -m bench.reference_app --port 8001 [--threads 4]

Reads RJ_DATABASE_URL, RJ_PUBLIC_BASE_URL and TWILIO_AUTH_TOKEN from the environment.
"""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime

from flask import Flask, Response, abort, request
from sqlalchemy import DateTime, String, Text, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse


class Base(DeclarativeBase):
    """Declarative base."""


class InboundSms(Base):
    """One received message."""

    __tablename__ = "inbound_sms"

    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(String(64), unique=True)
    sender: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def create_app(database_url: str, public_base_url: str, auth_token: str) -> Flask:
    """The app: one route."""
    app = Flask(__name__)
    engine = create_engine(database_url)
    Base.metadata.create_all(engine)
    validator = RequestValidator(auth_token)
    url = public_base_url.rstrip("/") + "/webhooks/twilio/sms"

    @app.get("/healthz")
    def healthz() -> Response:
        return Response('{"status":"ok"}', mimetype="application/json")

    @app.post("/webhooks/twilio/sms")
    def inbound_sms() -> Response:
        if not validator.validate(url, request.form, request.headers.get("X-Twilio-Signature", "")):
            abort(403)
        with Session(engine) as session:
            session.add(
                InboundSms(
                    sid=request.form["MessageSid"],
                    sender=request.form["From"],
                    body=request.form.get("Body", ""),
                    received_at=datetime.now(UTC),
                )
            )
            session.commit()
        answer = MessagingResponse()
        answer.message("Thanks, we got your message.")
        return Response(str(answer), mimetype="text/xml")

    return app


def main() -> None:
    """Serve under waitress."""
    from waitress import serve

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=4)  # waitress's default, as serve
    args = parser.parse_args()
    app = create_app(
        os.environ["RJ_DATABASE_URL"],
        os.environ.get("RJ_PUBLIC_BASE_URL", f"http://127.0.0.1:{args.port}"),
        os.environ["TWILIO_AUTH_TOKEN"],
    )
    serve(app, host="127.0.0.1", port=args.port, threads=args.threads, ident="reference")


if __name__ == "__main__":
    main()
