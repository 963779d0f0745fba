"""PynamoDB models of the auth tables. Table names and endpoints come from settings through :func:`bind_auth_models`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
)
from pynamodb.models import Model

from melody.core.dynamodb import bind_model

if TYPE_CHECKING:
    from melody.core.settings import CommonSettings


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
    # A spent token: its successor pair sealed with a key derived from the token itself (AES-GCM), the end of
    # the window in which one replay is answered with it, and when that replay was answered.
    successor = UnicodeAttribute(null=True)
    grace_until = NumberAttribute(null=True)
    grace_used_at = NumberAttribute(null=True)
    revoked_at = NumberAttribute(null=True)
    ttl = TTLAttribute(null=True)


class RateLimitModel(Model):
    class Meta:
        table_name = "melody-rate-limits"

    counter_key = UnicodeAttribute(hash_key=True)
    # Stored as ``count``; named ``hits`` here because ``Model.count`` is PynamoDB's query-count method.
    hits = NumberAttribute(attr_name="count", default=0)
    until = NumberAttribute(null=True)  # cooldown items: when the key frees up (epoch seconds)
    ttl = TTLAttribute(null=True)


_BINDINGS: tuple[tuple[type[Model], str], ...] = (
    (OtpChallengeModel, "otp_table"),
    (RefreshTokenModel, "tokens_table"),
    (RateLimitModel, "rate_limit_table"),
)


def bind_auth_models(settings: CommonSettings) -> None:
    """Point every model at the configured table, region and (locally) endpoint."""
    for model, field in _BINDINGS:
        bind_model(model, getattr(settings, field), settings)
