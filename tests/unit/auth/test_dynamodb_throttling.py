"""DynamoDB throttling that outlasts botocore's retries: a 503 ``temporarily_unavailable``, not a 500."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from pynamodb.exceptions import GetError, PutError, UpdateError

from melody.core.errors import ServiceUnavailable


def throttling(code: str = "ProvisionedThroughputExceededException", operation: str = "UpdateItem") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "Rate of requests exceeds the allowed throughput."}}, operation)


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"])
def test_throttling_after_retries_is_503_temporarily_unavailable(code):
    from melody.core.dynamodb import unavailable_when_throttled

    @unavailable_when_throttled
    def write() -> None:
        raise UpdateError("Failed to update item", cause=throttling(code))

    with pytest.raises(ServiceUnavailable) as exc:
        write()
    assert exc.value.status == 503 and exc.value.code == "temporarily_unavailable"
    assert exc.value.headers == {"Retry-After": "1"}
    assert exc.value.to_body()["error"]["code"] == "temporarily_unavailable"


def test_other_errors_pass_through_unchanged():
    from melody.core.dynamodb import unavailable_when_throttled

    conditional = PutError("x", cause=throttling("ConditionalCheckFailedException", "PutItem"))

    @unavailable_when_throttled
    def write() -> None:
        raise conditional

    with pytest.raises(PutError) as exc:
        write()
    assert exc.value is conditional

    @unavailable_when_throttled
    def raw() -> None:
        raise throttling("ThrottlingException")  # a bare botocore error is recognised too

    with pytest.raises(ServiceUnavailable):
        raw()


def test_bound_models_retry_throttling(monkeypatch):
    from melody.auth.dynamodb_models import RateLimitModel
    from melody.core.dynamodb import MAX_RETRY_ATTEMPTS, bind_model
    from melody.core.settings import CommonSettings

    for name in ("table_name", "region", "host", "max_retry_attempts"):
        monkeypatch.setattr(RateLimitModel.Meta, name, getattr(RateLimitModel.Meta, name))
    monkeypatch.setattr(RateLimitModel, "_connection", None)
    bind_model(RateLimitModel, "t", CommonSettings(aws_region="ap-south-1"))
    assert RateLimitModel.Meta.max_retry_attempts == MAX_RETRY_ATTEMPTS >= 2
    retries = RateLimitModel._get_connection().connection.client.meta.config.retries
    assert retries == {"total_max_attempts": 1 + MAX_RETRY_ATTEMPTS, "mode": "standard"}


def test_every_auth_and_users_adapter_translates_throttling(monkeypatch):
    """Each store method a request goes through: a throttled read or write is a 503."""
    from melody.auth import dynamodb as auth_db
    from melody.auth.dynamodb_models import OtpChallengeModel, RateLimitModel, RefreshTokenModel
    from melody.users import dynamodb as users_db

    def throttled_get(*args, **kwargs):
        raise GetError("Failed to get item", cause=throttling("ThrottlingException", "GetItem"))

    def throttled_update(*args, **kwargs):
        raise UpdateError("Failed to update item", cause=throttling())

    for model in (OtpChallengeModel, RefreshTokenModel, RateLimitModel, users_db.UserModel):
        monkeypatch.setattr(model, "get", classmethod(throttled_get))
        monkeypatch.setattr(model, "update", throttled_update)
    calls = [
        lambda: auth_db.DynamoChallengeStore().get("otp_x"),
        lambda: auth_db.DynamoChallengeStore().register_attempt("otp_x", max_attempts=5),
        lambda: auth_db.DynamoRefreshTokenStore().get("h"),
        lambda: auth_db.DynamoRefreshTokenStore().mark_used("h", now=1.0),
        lambda: auth_db.DynamoRateLimiter().hit("k", limit=5, window_s=60, now=1.0),
        lambda: auth_db.DynamoRateLimiter().cooldown_wait("k", now=1.0),
        lambda: auth_db.DynamoRateLimiter().release("k", window_s=60, now=1.0),
        lambda: users_db.DynamoUserStore().get("usr_1"),
    ]
    for call in calls:
        with pytest.raises(ServiceUnavailable) as exc:
            call()
        assert exc.value.code == "temporarily_unavailable"
