"""Fault injection on the login flow, through the API on moto's DynamoDB.

- The SMS provider down: ``POST /auth/request-otp`` answers 503 ``sms_unavailable`` and the failed
  send uses up none of the limits (per number per hour, resend cooldown, per IP per minute and hour).
- DynamoDB throttling on an auth write: botocore retries it; what outlasts the retries is a 503
  ``temporarily_unavailable`` in the one error shape, never a 500.
"""

from __future__ import annotations

import io
import json
import random

import pytest

from tests.conftest import CapturingSender, random_indian_mobile

pytestmark = pytest.mark.integration

# Every limit at one: a request the failed send had counted would be refused.
TIGHT = {
    "otp_per_number_per_hour": 1,
    "otp_resend_after_s": 30,
    "otp_per_ip_per_minute": 1,
    "otp_per_ip_per_hour": 1,
}


class ProviderDown(CapturingSender):
    """Fails like the real senders while ``down`` (SmsDeliveryFailed), records codes once it is back."""

    def __init__(self) -> None:
        super().__init__()
        self.down = True
        self.failed = 0

    def send_otp(self, phone_e164: str, code: str) -> None:
        if self.down:
            from melody.auth.sms import SmsDeliveryFailed

            self.failed += 1
            raise SmsDeliveryFailed("The code could not be sent; try again shortly.")
        super().send_otp(phone_e164, code)


def _fresh_address() -> tuple[str, int]:
    return ".".join(str(random.randint(1, 254)) for _ in range(4)), 50000  # counters are per IP


def _app_client(dev_settings, sender, **limits):
    from fastapi.testclient import TestClient

    from melody.api.apps import full_app
    from melody.core.services import Services

    services = Services(dev_settings.model_copy(update=limits), sms_sender=sender)
    return services, TestClient(full_app(services), client=_fresh_address(), raise_server_exceptions=False)


def _request(client, phone):
    return client.post("/api/v1/auth/request-otp", json={"phone_number": phone})


def test_sms_provider_down_is_503_and_uses_up_no_limit(dev_settings):
    sender = ProviderDown()
    phone = random_indian_mobile()
    _, app = _app_client(dev_settings, sender, **TIGHT)
    with app as client:
        for _ in range(3):  # asking again while the provider is down is never refused by a limit
            failed = _request(client, phone)
            assert failed.status_code == 503, failed.text
            assert failed.json() == {
                "error": {"code": "sms_unavailable", "message": "The code could not be sent; try again shortly.", "details": None}
            }
        assert sender.failed == 3

        sender.down = False  # the provider is back: the next request sends at once
        sent = _request(client, phone)
        assert sent.status_code == 202, sent.text
        assert sender.last_code("+91" + phone)
        # ... and every limit holds again: the resend cooldown for the number, the address's minute.
        again = _request(client, phone)
        assert again.status_code == 429 and again.json()["error"]["code"] == "otp_resend_too_soon"
        other = _request(client, random_indian_mobile())
        assert other.status_code == 429 and other.json()["error"]["code"] == "rate_limited"


def test_parallel_requests_while_the_provider_is_down_leave_the_limits_whole(dev_settings):
    import concurrent.futures

    sender = ProviderDown()
    phone = random_indian_mobile()
    _, app = _app_client(dev_settings, sender, **{**TIGHT, "otp_per_ip_per_minute": 100, "otp_per_ip_per_hour": 100})
    with app as client:
        with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
            statuses = list(pool.map(lambda _: _request(client, phone).status_code, range(12)))
        # Each either claimed the limits and gave them back (503) or lost the race for them (429).
        assert set(statuses) <= {503, 429} and 503 in statuses
        sender.down = False
        assert _request(client, phone).status_code == 202  # nothing was left claimed
        assert _request(client, phone).status_code == 429


# -- DynamoDB throttling ---------------------------------------------------------------------------


class _RawBody(io.BytesIO):
    def stream(self, **_kwargs):
        yield self.getvalue()


class Throttle:
    """A ``before-send`` hook on a model's botocore client: answers the first ``times`` calls of
    ``operation`` with DynamoDB's throttling error, as the service does; later ones go through."""

    def __init__(self, model, operation: str, *, times: int, code: str = "ProvisionedThroughputExceededException"):
        self.events = model._get_connection().connection.client.meta.events
        self.event = f"before-send.dynamodb.{operation}"
        self.times, self.code, self.calls = times, code, 0

    def __enter__(self) -> Throttle:
        self.events.register_first(self.event, self)
        return self

    def __exit__(self, *exc) -> None:
        self.events.unregister(self.event, self)

    def __call__(self, request, **_kwargs):
        from botocore.awsrequest import AWSResponse

        self.calls += 1
        if self.calls > self.times:
            return None  # sent to moto
        body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{self.code}", "message": "throttled"})
        headers = {"x-amzn-requestid": "throttled", "content-type": "application/x-amz-json-1.0"}
        return AWSResponse(request.url, 400, headers, _RawBody(body.encode()))


@pytest.fixture()
def retries(monkeypatch):
    """botocore's retry delays, recorded and skipped (the backoff is real in AWS; here it only slows the test)."""
    from botocore.retries.standard import ExponentialBackoff

    delays: list[float] = []
    original = ExponentialBackoff.delay_amount

    def no_wait(self, context):
        delays.append(original(self, context))
        return 0

    monkeypatch.setattr(ExponentialBackoff, "delay_amount", no_wait)
    return delays


def test_a_throttled_auth_write_is_retried_then_succeeds(dev_settings, retries):
    from melody.auth.dynamodb_models import OtpChallengeModel

    sender = CapturingSender()
    services, app = _app_client(dev_settings, sender, **TIGHT)
    phone = random_indian_mobile()
    with app as client:
        _ = services.otp  # bind the models, so the hook goes on the client the request uses
        with Throttle(OtpChallengeModel, "PutItem", times=2) as throttle:
            response = _request(client, phone)
    assert response.status_code == 202, response.text
    assert throttle.calls == 3 and len(retries) == 2  # two throttled attempts retried, the third stored
    assert sender.last_code("+91" + phone)


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "ThrottlingException"])
def test_throttling_that_outlasts_the_retries_is_503_temporarily_unavailable(dev_settings, retries, code):
    from melody.auth.dynamodb_models import OtpChallengeModel
    from melody.core.dynamodb import MAX_RETRY_ATTEMPTS

    sender = CapturingSender()
    services, app = _app_client(dev_settings, sender, **TIGHT)
    phone = random_indian_mobile()
    with app as client:
        _ = services.otp
        with Throttle(OtpChallengeModel, "PutItem", times=100, code=code) as throttle:
            response = _request(client, phone)
        assert response.status_code == 503, response.text
        assert response.json()["error"]["code"] == "temporarily_unavailable"
        assert set(response.json()["error"]) == {"code", "message", "details"}
        assert response.headers["Retry-After"] == "1"
        assert throttle.calls == 1 + MAX_RETRY_ATTEMPTS and len(retries) == MAX_RETRY_ATTEMPTS
        assert sender.sent == []
        # The claims the request made were handed back: once DynamoDB keeps up, the code goes out.
        assert _request(client, phone).status_code == 202


def test_a_throttled_users_write_is_503_not_500(dev_settings, retries):
    from melody.users.dynamodb import UserModel

    sender = CapturingSender()
    services, app = _app_client(dev_settings, sender, **TIGHT)
    phone = random_indian_mobile()
    with app as client:
        challenge = _request(client, phone).json()["challenge_id"]
        _ = services.users
        with Throttle(UserModel, "PutItem", times=100):
            response = client.post(
                "/api/v1/auth/verify-otp", json={"challenge_id": challenge, "code": sender.last_code("+91" + phone)}
            )
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "temporarily_unavailable"
