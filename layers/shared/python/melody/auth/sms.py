"""SMS senders behind the domain's ``SmsSender`` port: Amazon SNS, MSG91, and a dev console.

Codes never reach a log line, except the console sender's one line, which only exists in dev.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, TextIO

from melody.core.errors import ServiceUnavailable

if TYPE_CHECKING:
    import httpx  # ~70 ms to import: only the MSG91 sender needs it, and it gets its client given

MESSAGE = "{code} is your Melody Studio login code. It expires in {minutes} minutes. Do not share it."


class SmsDeliveryFailed(ServiceUnavailable):
    code = "sms_unavailable"


class ConsoleSmsSender:
    """Prints ``otp phone=<E.164> code=<digits>`` to stderr: for the local stack only."""

    def __init__(self, stage: str, stream: TextIO | None = None) -> None:
        if stage not in ("dev", "test"):
            raise RuntimeError("the console SMS sender is for dev only; configure sns or msg91")
        self._stream = stream

    def send_otp(self, phone_e164: str, code: str) -> None:
        stream = self._stream or sys.stderr
        print(f"otp phone={phone_e164} code={code}", file=stream, flush=True)


class SnsSmsSender:
    """Amazon SNS direct publish; India's DLT entity and template ids go as message attributes."""

    def __init__(
        self,
        client: Any,
        *,
        ttl_minutes: int,
        sender_id: str | None = None,
        entity_id: str | None = None,
        template_id: str | None = None,
    ) -> None:
        self._client = client
        self._ttl_minutes = ttl_minutes
        attributes: dict[str, dict[str, str]] = {
            "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}
        }
        for name, value in (
            ("AWS.SNS.SMS.SenderID", sender_id),
            ("AWS.MM.SMS.EntityId", entity_id),
            ("AWS.MM.SMS.TemplateId", template_id),
        ):
            if value:
                attributes[name] = {"DataType": "String", "StringValue": value}
        self._attributes = attributes

    def send_otp(self, phone_e164: str, code: str) -> None:
        try:
            self._client.publish(
                PhoneNumber=phone_e164,
                Message=MESSAGE.format(code=code, minutes=self._ttl_minutes),
                MessageAttributes=self._attributes,
            )
        except Exception as exc:  # botocore errors carry no code, but we never echo the message
            raise SmsDeliveryFailed("The code could not be sent; try again shortly.") from exc


class Msg91SmsSender:
    """MSG91 Flow API (``POST /api/v5/flow``) with a DLT-registered template holding ``##otp##``."""

    def __init__(self, client: httpx.Client, *, auth_key: str, template_id: str, base_url: str) -> None:
        self._client = client
        self._auth_key = auth_key
        self._template_id = template_id
        self._url = base_url.rstrip("/") + "/api/v5/flow"

    def send_otp(self, phone_e164: str, code: str) -> None:
        import httpx

        body = {
            "template_id": self._template_id,
            "short_url": "0",
            "recipients": [{"mobiles": phone_e164.lstrip("+"), "otp": code}],
        }
        try:
            response = self._client.post(
                self._url, json=body, headers={"authkey": self._auth_key, "accept": "application/json"}
            )
        except httpx.HTTPError as exc:
            raise SmsDeliveryFailed("The code could not be sent; try again shortly.") from exc
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            payload = {}  # MSG91 answers objects; anything else (a list, text) says nothing about success
        if response.status_code >= 400 or payload.get("type") == "error":
            raise SmsDeliveryFailed("The code could not be sent; try again shortly.")
