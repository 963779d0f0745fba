"""Builds the domain services from settings: the only place that picks concrete adapters."""

from __future__ import annotations

from functools import cached_property

from melody.adapters.dynamodb.models import bind_models
from melody.adapters.dynamodb.repositories import (
    DynamoChallengeStore,
    DynamoRateLimiter,
    DynamoRefreshTokenStore,
    DynamoUserStore,
)
from melody.adapters.keys import load_key_material
from melody.domain.keys import KeyMaterial
from melody.domain.otp import OtpPolicy, OtpService
from melody.domain.ports import Clock, SmsSender, SystemClock
from melody.domain.tokens import AccessTokenVerifier, TokenService, VerificationKeys
from melody.domain.users import UserService
from melody.settings import AuthSettings, SystemSettings, TokenSettings


class TokenContainer:
    """What every API function needs: settings, keys and the access-token verifier."""

    def __init__(self, settings: TokenSettings, *, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        bind_models(settings)

    @cached_property
    def keys(self) -> KeyMaterial:
        """The private key material: the auth function (and the single-process dev stack) only."""
        return load_key_material(self.settings)

    @cached_property
    def verification_keys(self) -> VerificationKeys:
        if self.settings.jwks_url:
            from melody.adapters.jwks import RemoteJwks

            return RemoteJwks(self.settings.jwks_url)
        return self.keys

    @cached_property
    def verifier(self) -> AccessTokenVerifier:
        return AccessTokenVerifier(
            self.verification_keys, issuer=self.settings.jwt_issuer, audience=self.settings.jwt_audience
        )

    @cached_property
    def users(self) -> UserService:
        return UserService(DynamoUserStore(), self.clock, hmac_key=None)  # profiles only: no login here


class AuthContainer(TokenContainer):
    settings: AuthSettings

    def __init__(
        self, settings: AuthSettings, *, sms_sender: SmsSender | None = None, clock: Clock | None = None
    ) -> None:
        super().__init__(settings, clock=clock)
        self._sms_sender = sms_sender

    @cached_property
    def verification_keys(self) -> VerificationKeys:
        return self.keys  # the signer checks its own tokens with its own keys

    @cached_property
    def users(self) -> UserService:
        return UserService(DynamoUserStore(), self.clock, hmac_key=self.keys.hmac_key)

    def origin_verify_secret(self) -> str | None:
        """CloudFront's origin-verify value (cached by powertools for 5 minutes), or None locally."""
        secret_id = self.settings.origin_verify_secret_id
        if not secret_id:
            return None
        from aws_lambda_powertools.utilities import parameters

        return str(parameters.get_secret(secret_id, max_age=300))

    @cached_property
    def sms_sender(self) -> SmsSender:
        if self._sms_sender is not None:
            return self._sms_sender
        return build_sms_sender(self.settings)

    @cached_property
    def otp(self) -> OtpService:
        s = self.settings
        policy = OtpPolicy(
            ttl_s=s.otp_ttl_s,
            max_attempts=s.otp_max_attempts,
            resend_after_s=s.otp_resend_after_s,
            per_number_per_hour=s.otp_per_number_per_hour,
            per_ip_per_minute=s.otp_per_ip_per_minute,
            per_ip_per_hour=s.otp_per_ip_per_hour,
            failed_verifies_per_hour=s.otp_failed_verifies_per_hour,
            default_region=s.default_region,
        )
        return OtpService(
            DynamoChallengeStore(),
            DynamoRateLimiter(),
            self.sms_sender,
            self.clock,
            hmac_key=self.keys.hmac_key,
            policy=policy,
        )

    @cached_property
    def tokens(self) -> TokenService:
        s = self.settings
        return TokenService(
            self.keys,
            DynamoRefreshTokenStore(),
            self.clock,
            issuer=s.jwt_issuer,
            audience=s.jwt_audience,
            access_ttl_s=s.access_token_ttl_s,
            refresh_ttl_s=s.refresh_token_ttl_s,
        )


def build_sms_sender(settings: AuthSettings) -> SmsSender:
    from melody.adapters import sms

    if settings.sms_sender == "console":
        return sms.ConsoleSmsSender(settings.stage)
    if settings.sms_sender == "msg91":
        import httpx

        if not (settings.msg91_auth_key and settings.msg91_template_id):
            raise RuntimeError("msg91 needs MELODY_MSG91_AUTH_KEY and MELODY_MSG91_TEMPLATE_ID")
        return sms.Msg91SmsSender(
            httpx.Client(timeout=5.0),
            auth_key=settings.msg91_auth_key.get_secret_value(),
            template_id=settings.msg91_template_id,
            base_url=settings.msg91_base_url,
        )
    import boto3

    return sms.SnsSmsSender(
        boto3.client("sns", region_name=settings.aws_region),
        ttl_minutes=max(1, settings.otp_ttl_s // 60),
        sender_id=settings.sns_sender_id,
        entity_id=settings.sns_entity_id,
        template_id=settings.sns_template_id,
    )


class SystemContainer:
    """The health function needs only its settings."""

    def __init__(self, settings: SystemSettings) -> None:
        self.settings = settings


class MusicServices:
    """Catalog, search and library services, built lazily from settings (no import cost until used)."""

    def __init__(
        self,
        settings,
        clock: Clock | None = None,
        *,
        instrumental=None,
        providers=None,
        cache=None,
        executor=None,
        storage=None,
    ) -> None:
        from melody.adapters.dynamodb.library import bind_library_model

        self.settings = settings
        self.clock = clock or SystemClock()
        self._instrumental = instrumental
        self._providers = providers
        self._cache = cache
        if executor is not None:
            self.executor = executor  # fills the cached property
        if storage is not None:
            self.storage = storage  # fills the cached property
        bind_library_model(settings)

    @cached_property
    def executor(self):
        from melody.adapters.catalog.connect import catalog_executor
        from melody.errors import ServiceUnavailable

        executor = catalog_executor(self.settings)
        if executor is None:
            raise ServiceUnavailable("The song catalog is not configured.", code="catalog_not_configured")
        return executor

    @cached_property
    def catalog(self):
        from melody.adapters.catalog.repository import CatalogRepository

        return CatalogRepository(self.executor)

    @cached_property
    def storage(self):
        """S3 for presigning a track's original audio: the same adapter and endpoints as the jobs'
        result URLs (locally ``s3_public_endpoint_url`` is the dev stack's ``/local-s3`` gateway)."""
        from melody.adapters.s3 import storage_for

        return storage_for(self.settings)

    @cached_property
    def track_audio(self):
        from melody.adapters.catalog.track_audio import CatalogTrackAudio

        return CatalogTrackAudio(lambda: self.executor, self.settings.media_bucket)

    def audio_url(self, track_id: str, *, title: str | None = None) -> str | None:
        """A short-lived presigned GET of the track's original audio, or None when it has none."""
        expires_s = getattr(self.settings, "media_url_expires_s", 3600)
        return self.track_audio.audio_url(track_id, self.storage, expires_s=expires_s, title=title)

    @cached_property
    def instrumental(self):
        from melody.catalog.ports import NoInstrumentalStatus

        if self._instrumental is not None:
            return self._instrumental
        if not getattr(self.settings, "jobs_table", None):
            return NoInstrumentalStatus()
        from melody.adapters.dynamodb.jobs import JobsInstrumentalStatus, bind_job_models

        # The status of the user's newest conversion job for each track.
        bind_job_models(self.settings)
        return JobsInstrumentalStatus()

    @cached_property
    def library(self):
        from melody.adapters.dynamodb.library import DynamoLibraryStore
        from melody.library.service import LibraryService

        return LibraryService(DynamoLibraryStore(), self.catalog, self.clock, self.instrumental)

    @cached_property
    def providers(self):
        if self._providers is not None:
            return self._providers
        from melody.adapters.providers import build_providers

        return build_providers(self.settings)

    @cached_property
    def search_cache(self):
        if self._cache is not None:
            return self._cache
        from melody.adapters.providers.cache import DynamoSearchCache, bind_search_cache_model

        bind_search_cache_model(self.settings)
        return DynamoSearchCache()

    @cached_property
    def search(self):
        from melody.catalog.service import MusicSearchService

        return MusicSearchService(
            self.catalog,
            providers=lambda: self.providers,
            cache=lambda: self.search_cache,
            clock=self.clock,
            cache_ttl_s=getattr(self.settings, "search_cache_ttl_s", 0),
            provider_timeout_s=getattr(self.settings, "provider_timeout_s", 2.5),
        )


class CatalogContainer(TokenContainer):
    """The search and library functions: token verification plus the music services."""

    @cached_property
    def music(self) -> MusicServices:
        return MusicServices(self.settings, self.clock)
