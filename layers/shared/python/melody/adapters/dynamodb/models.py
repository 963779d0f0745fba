"""PynamoDB models. Table names and endpoints come from settings through :func:`bind_models`."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
)
from pynamodb.models import Model

from melody.adapters.dynamodb.binding import bind_model
from melody.settings import CommonSettings


class UserModel(Model):
    class Meta:
        table_name = "melody-users"

    user_id = UnicodeAttribute(hash_key=True)
    phone_e164 = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    avatar_url = UnicodeAttribute(null=True)
    preferences = JSONAttribute(null=True)
    is_verified = BooleanAttribute(default=False)
    created_at = NumberAttribute()
    updated_at = NumberAttribute()


class OtpChallengeModel(Model):
    class Meta:
        table_name = "melody-otp-challenges"

    challenge_id = UnicodeAttribute(hash_key=True)
    phone_e164 = UnicodeAttribute()
    code_mac = UnicodeAttribute()
    created_at = NumberAttribute()
    expires_at = NumberAttribute()
    attempts = NumberAttribute(default=0)
    consumed = BooleanAttribute(default=False)
    ttl = TTLAttribute(null=True)


class RefreshTokenModel(Model):
    """Token records keyed by the token's hash; family revocations keyed ``family#<id>``."""

    class Meta:
        table_name = "melody-refresh-tokens"

    token_hash = UnicodeAttribute(hash_key=True)
    family_id = UnicodeAttribute()
    user_id = UnicodeAttribute(null=True)
    issued_at = NumberAttribute(null=True)
    expires_at = NumberAttribute(null=True)
    used_at = NumberAttribute(null=True)
    revoked_at = NumberAttribute(null=True)
    ttl = TTLAttribute(null=True)


class RateLimitModel(Model):
    class Meta:
        table_name = "melody-rate-limits"

    counter_key = UnicodeAttribute(hash_key=True)
    count = NumberAttribute(default=0)
    until = NumberAttribute(null=True)  # cooldown items: when the key frees up (epoch seconds)
    ttl = TTLAttribute(null=True)


_BINDINGS: tuple[tuple[type[Model], str], ...] = (
    (UserModel, "users_table"),
    (OtpChallengeModel, "otp_table"),
    (RefreshTokenModel, "tokens_table"),
    (RateLimitModel, "rate_limit_table"),
)


def bind_models(settings: CommonSettings) -> None:
    """Point every model at the configured table, region and (locally) endpoint."""
    for model, field in _BINDINGS:
        bind_model(model, getattr(settings, field), settings)
