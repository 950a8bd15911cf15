"""Twilio webhooks: inbound SMS answered with TwiML, and delivery-status callbacks."""

from __future__ import annotations

import logging
import re

from flask import Blueprint, Response, abort, request
from sqlalchemy.orm import Session
from twilio.twiml.messaging_response import MessagingResponse

from bot.answers import parse_phone
from bot.engine import keyword_of
from bot.service import Inbound
from case_store.conference_sends import link_messages
from case_store.conversations import already_received, record_message
from case_store.volunteers import active_volunteer
from sms_gateway.signature import is_signed
from sms_gateway.status import apply_status
from webhooks.runtime import Runtime, current_runtime

log = logging.getLogger(__name__)
bp = Blueprint("sms", __name__, url_prefix="/webhooks/twilio")
MAX_BODY_CHARS = 1600
SID = re.compile(r"[A-Za-z0-9]{1,64}")


def _checked_runtime() -> Runtime:
    """The runtime, after the channel and signature checks: 503 when off, 403 when unsigned."""
    runtime = current_runtime()
    settings = runtime.settings
    if not settings.twilio_enabled or settings.twilio_auth_token is None:
        abort(503, description="The SMS channel is not configured.")
    if request.mimetype != "application/x-www-form-urlencoded":
        abort(400, description="Expected form-encoded data.")
    request.form  # parse now: an oversized body is 413 whatever its signature  # noqa: B018
    if not is_signed(settings.twilio_auth_token, settings.public_base_url, request):
        abort(403, description="The request signature is not valid.")
    return runtime


def _required(name: str) -> str:
    """A form field Twilio always sends; 400 when missing."""
    value = request.form.get(name)
    if value is None:
        abort(400, description=f"Missing form field {name}.")
    return value


def _sid() -> str:
    """Twilio's MessageSid (letters and digits); 400 for anything else, before it is stored."""
    sid = _required("MessageSid")
    if not SID.fullmatch(sid):
        abort(400, description="MessageSid is not a Twilio message id.")
    return sid


def _error_code() -> str | None:
    """Twilio's ErrorCode: digits, or None."""
    code = request.form.get("ErrorCode")
    return code if code and code.isdigit() and len(code) <= 16 else None


def twiml(texts: list[str]) -> Response:
    """A TwiML answer holding each text as a <Message>; none means send nothing."""
    answer = MessagingResponse()
    for text in texts:
        answer.message(text)
    return Response(str(answer), mimetype="text/xml")


@bp.post("/sms")
def inbound_sms() -> Response:
    """Record the message once, step the conversation, answer with the replies.

    One transaction: the duplicate check, a volunteer's answer or the conversation's step.
    """
    runtime = _checked_runtime()
    sid, sender = _sid(), _required("From")
    body = request.form.get("Body", "")[:MAX_BODY_CHARS]
    address = parse_phone(sender) or sender
    with runtime.conversations.db.transaction() as session:
        if already_received(session, "sms", sid):
            log.info("duplicate MessageSid ignored")
            return twiml([])
        answered = volunteer_answer(runtime, session, address, body, sid)
        if answered is not None:
            return twiml(answered)
        inbound = Inbound("sms", address, body, message_id=sid)
        outcome = runtime.conversations.handle_in(session, inbound, checked=True)
    return twiml([reply.text for reply in outcome.replies])


def volunteer_answer(
    runtime: Runtime, session: Session, phone: str, body: str, sid: str
) -> list[str] | None:
    """A volunteer's reply to an invitation, stored in `session`; None if it is not one."""
    if keyword_of(body) in runtime.conversations.flow.keywords:
        return None  # STOP, HELP and the rest mean the same from a volunteer: opted out, say
    volunteer = active_volunteer(session, phone)
    if volunteer is None:
        return None
    now = runtime.conversations.clock()
    answer = runtime.desk.handle_reply(session, volunteer, body, now)
    if answer is None:
        return None
    stored = [record_message(session, None, "in", body, now, channel="sms", channel_message_id=sid)]
    stored += [
        record_message(session, None, "out", text, now, channel="sms", status="replied")
        for text in answer.texts
    ]
    link_messages(session, [message.id for message in stored], answer.about)
    return answer.texts


@bp.post("/status")
def delivery_status() -> Response:
    """Move an outbound message's status forward; an opted-out error marks the person."""
    runtime = _checked_runtime()
    sid, status = _sid(), _required("MessageStatus")
    with runtime.db.transaction() as session:
        apply_status(session, sid, status, _error_code(), runtime.conversations.clock())
    return Response(status=204)
