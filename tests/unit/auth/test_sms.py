from __future__ import annotations

import io
import json

import boto3
import httpx
import pytest
from moto import mock_aws

from melody.auth.sms import ConsoleSmsSender, Msg91SmsSender, SmsDeliveryFailed, SnsSmsSender


def test_console_sender_prints_one_line_in_dev():
    out = io.StringIO()
    ConsoleSmsSender("dev", stream=out).send_otp("+919876543210", "123456")
    assert out.getvalue() == "otp phone=+919876543210 code=123456\n"


def test_console_sender_refuses_outside_dev():
    with pytest.raises(RuntimeError):
        ConsoleSmsSender("prod")


@mock_aws
def test_sns_sender_publishes_with_dlt_attributes():
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns import sns_backends

    client = boto3.client("sns", region_name="ap-south-1")
    published = []  # moto keeps only number and text: read the attributes off the request itself
    client.meta.events.register("provide-client-params.sns.Publish", lambda params, **_: published.append(params))
    SnsSmsSender(client, ttl_minutes=5, sender_id="MELODY", entity_id="1101", template_id="1207").send_otp(
        "+919876543210", "654321"
    )
    sent = sns_backends[DEFAULT_ACCOUNT_ID]["ap-south-1"].sms_messages
    (message_id, (phone, text)), = sent.items()
    assert phone == "+919876543210" and "654321" in text
    (params,) = published
    attributes = {name: value["StringValue"] for name, value in params["MessageAttributes"].items()}
    assert attributes == {
        "AWS.SNS.SMS.SMSType": "Transactional",
        "AWS.SNS.SMS.SenderID": "MELODY",
        "AWS.MM.SMS.EntityId": "1101",  # India DLT: the registered entity and template
        "AWS.MM.SMS.TemplateId": "1207",
    }


def test_msg91_sender_calls_flow_api():
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["url"] = str(request.url)
        seen["auth"] = request.headers["authkey"]
        seen["body"] = json.loads(request.content)
        return httpx.Response(200, json={"type": "success", "message": "3763646c3058373530393832"})

    client = httpx.Client(transport=httpx.MockTransport(handler))
    Msg91SmsSender(client, auth_key="AK", template_id="T1", base_url="https://control.msg91.com").send_otp("+919876543210", "111222")
    assert seen["url"] == "https://control.msg91.com/api/v5/flow"
    assert seen["auth"] == "AK"
    assert seen["body"]["recipients"] == [{"mobiles": "919876543210", "otp": "111222"}]


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(401, json={"type": "error", "message": "Authentication failure"}),
        httpx.Response(200, json={"type": "error", "message": "Template not found"}),
        httpx.Response(502, text="bad gateway"),
        httpx.Response(500, json=["unexpected", "shape"]),
    ],
)
def test_msg91_errors_become_a_503_without_leaking(response):
    client = httpx.Client(transport=httpx.MockTransport(lambda _: response))
    sender = Msg91SmsSender(client, auth_key="AK", template_id="T1", base_url="https://x")
    with pytest.raises(SmsDeliveryFailed) as exc:
        sender.send_otp("+919876543210", "111222")
    assert exc.value.status == 503 and "111222" not in exc.value.message


def test_msg91_network_error():
    def boom(_):
        raise httpx.ConnectTimeout("timeout")

    sender = Msg91SmsSender(httpx.Client(transport=httpx.MockTransport(boom)), auth_key="A", template_id="T", base_url="https://x")
    with pytest.raises(SmsDeliveryFailed):
        sender.send_otp("+919876543210", "111222")


def test_msg91_accepted_with_an_unexpected_body_is_not_a_crash():
    # 2xx with no error marker is accepted (the person can ask again if no SMS comes); it must not be a 500.
    client = httpx.Client(transport=httpx.MockTransport(lambda _: httpx.Response(200, json=["ok"])))
    Msg91SmsSender(client, auth_key="AK", template_id="T1", base_url="https://x").send_otp("+919876543210", "111222")
