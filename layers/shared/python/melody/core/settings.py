"""One settings model per function, read from the environment (prefix ``MELODY_``).

Every function's settings extend :class:`CommonSettings`; no endpoint, table name or secret is a
literal in code. Locally ``melody dev`` fills the same variables with loopback endpoints.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Stage = Literal["dev", "test", "staging", "prod"]
# Separation engines (``demucs``: the former name of ``neural``, still accepted).
EngineName = Literal["dsp", "lalal", "neural", "demucs"]


class CommonSettings(BaseSettings):
    # defer_build: only the settings class a function instantiates builds its validator (cold start)
    model_config = SettingsConfigDict(env_prefix="MELODY_", extra="ignore", defer_build=True)

    stage: Stage = "prod"
    service_name: str = "melody-studio"
    aws_region: str = "ap-south-1"
    # Loopback endpoints for moto locally; unset in AWS so boto3 uses the real services.
    dynamodb_endpoint_url: str | None = None
    s3_endpoint_url: str | None = None

    users_table: str = "melody-users"
    otp_table: str = "melody-otp-challenges"
    tokens_table: str = "melody-refresh-tokens"
    rate_limit_table: str = "melody-rate-limits"
    # Catalog feature tables (here because resources.TABLES is iterated with any settings object).
    library_table: str = "melody-library"
    search_cache_table: str = "melody-search-cache"
    jobs_table: str = "melody-jobs"
    results_table: str = "melody-audio-results"
    # Synced lyrics: provider answers (cached, TTL) and each user's attached LRC per song.
    lyrics_table: str = "melody-lyrics"
    # Developer API: keys (by their HMAC) and per-key usage, billing and analyze-job records.
    api_keys_table: str = "melody-api-keys"
    api_usage_table: str = "melody-api-usage"
    # Renditions (key/tempo changes of a converted song): one record per (result, semitones, tempo).
    renditions_table: str = "melody-renditions"

    # Scores (issue 12): uploaded MusicXML/MIDI/ABC, their status and analysis summary.
    scores_table: str = "melody-scores"

    uploads_bucket: str = "melody-uploads"
    media_bucket: str = "melody-media"

    @property
    def is_dev(self) -> bool:
        return self.stage in ("dev", "test")


class TokenSettings(CommonSettings):
    """What every API function needs to verify access tokens."""

    jwt_issuer: str = "https://melody_dev.local"
    jwt_audience: str = "melody-api"
    access_token_ttl_s: int = Field(default=900, ge=60, le=3600)
    # Where the signing key comes from: a local file (dev) or a Secrets Manager secret (AWS).
    signing_key_file: Path | None = None
    signing_key_secret_id: str | None = None
    # Functions that only verify tokens read the issuer's public keys here instead (AWS).
    jwks_url: str | None = None


class AuthSettings(TokenSettings):
    # Operators by phone number (E.164, comma-separated in MELODY_ADMIN_PHONES): their access tokens
    # carry the ``admin`` role, which admin-only routes require.
    admin_phones: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @field_validator("admin_phones", mode="before")
    @classmethod
    def _split_admin_phones(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    # The secret CloudFront sends to the API in X-Melody-Origin-Verify (AWS): only then is its
    # CloudFront-Viewer-Address believed as the caller's IP for the per-IP limits.
    origin_verify_secret_id: str | None = None
    refresh_token_ttl_s: int = Field(default=30 * 24 * 3600, ge=3600)
    # A refresh whose answer was lost: the previous refresh token is accepted once more for this long
    # after its rotation and answered with the same successor pair (0 turns the grace off).
    refresh_grace_s: int = Field(default=60, ge=0, le=300)
    otp_ttl_s: int = Field(default=300, ge=60, le=600)
    otp_max_attempts: int = Field(default=5, ge=1, le=10)
    otp_resend_after_s: int = Field(default=30, ge=0)
    otp_per_number_per_hour: int = Field(default=5, ge=1)
    otp_per_ip_per_hour: int = Field(default=20, ge=1)
    otp_per_ip_per_minute: int = Field(default=5, ge=1)
    otp_failed_verifies_per_hour: int = Field(default=10, ge=1)
    default_region: str = "IN"

    sms_sender: Literal["console", "sns", "msg91"] = "sns"
    sns_sender_id: str | None = None
    sns_entity_id: str | None = None
    sns_template_id: str | None = None
    msg91_base_url: str = "https://control.msg91.com"
    msg91_template_id: str | None = None
    msg91_auth_key: SecretStr | None = None


class CatalogDatabaseSettings(CommonSettings):
    """Where the catalog database is: a libpq URL (local PostgreSQL, RDS Proxy) or the RDS Data API (Aurora)."""

    database_url: SecretStr | None = None
    catalog_db_schema: str | None = Field(default=None, pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    catalog_cluster_arn: str | None = None
    catalog_secret_arn: str | None = None
    catalog_database: str = "melody"


class SystemSettings(CatalogDatabaseSettings):
    version: str = "0.1.0"


class CatalogSettings(TokenSettings, CatalogDatabaseSettings):
    """The search and library functions: the catalog database, providers, library and cache tables."""

    # Provider credentials: one Secrets Manager JSON secret
    # {"spotify": {"client_id", "client_secret"}, "youtube": {"api_key"}, "lastfm": {"api_key"}}.
    provider_secret_id: str | None = None
    providers_enabled: str = "spotify,youtube,lastfm"
    provider_timeout_s: float = Field(default=2.5, gt=0, le=10)
    # Per-provider overrides of provider_timeout_s, e.g. MELODY_PROVIDER_TIMEOUTS='{"youtube": 4.0}'
    # (YouTube makes two calls in a row); a provider not named here gets provider_timeout_s.
    provider_timeouts: dict[Literal["spotify", "youtube", "lastfm"], Annotated[float, Field(gt=0, le=10)]] = Field(
        default_factory=dict
    )
    search_cache_ttl_s: int = Field(default=6 * 3600, ge=0)
    # Synced lyrics (GET /lyrics): LRCLIB, no key needed; "" turns the provider off (answers "skipped").
    lyrics_provider: Literal["lrclib", ""] = "lrclib"
    lrclib_base_url: str = "https://lrclib.net"
    lyrics_timeout_s: float = Field(default=3.0, gt=0, le=10)
    lyrics_cache_ttl_s: int = Field(default=7 * 24 * 3600, ge=0)

    # A catalog track's original audio (``GET /music/track``: ``audio_url``) is a presigned GET of
    # the media bucket (``media_bucket``), signed like the jobs' result URLs: the same variables as
    # PipelineSettings reads (MELODY_MEDIA_URL_EXPIRES_S, MELODY_S3_PUBLIC_ENDPOINT_URL).
    media_url_expires_s: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    s3_public_endpoint_url: str | None = None

    # The seed catalogue `melody dev` loads on first start (skipped quietly when absent).
    seed_catalog: Path | None = None

    # Operators attach licensed audio to catalog tracks (POST /music/admin/tracks/{id}/audio): the
    # largest file the upload form accepts, and the pipeline the attach starts (Step Functions).
    catalog_audio_max_bytes: int = Field(default=200 * 1024 * 1024, ge=1024)
    state_machine_arn: str | None = None


class PipelineSettings(TokenSettings, CatalogDatabaseSettings):
    """The audio API function and the pipeline's step functions (persist writes catalog tracks' attributes)."""

    max_upload_bytes: int = Field(default=100 * 1024 * 1024, ge=1024)
    upload_url_expires_s: int = Field(default=900, ge=60, le=3600)
    # Per user: new upload forms per minute and per hour, and forms not yet used (expired ones do
    # not count). Over either, POST /audio/uploads answers 429 with Retry-After.
    uploads_per_user_per_minute: int = Field(default=10, ge=1)
    uploads_per_user_per_hour: int = Field(default=100, ge=1)
    max_pending_uploads_per_user: int = Field(default=10, ge=1)
    media_url_expires_s: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    max_duration_s: float = Field(default=15 * 60, gt=0)
    # Per user: the bytes of kept uploads (and forms still usable). Over it, POST /audio/uploads
    # answers 422 storage_quota_exceeded with the limit in details.
    storage_quota_bytes: int = Field(default=2 * 1024**3, ge=1024)
    default_engine: EngineName = "dsp"
    # The separation engines this deployment offers (comma-separated): a job may name only these
    # (422 engine_unavailable otherwise). The default engine is always offered.
    engines: Annotated[list[EngineName], NoDecode] = Field(default_factory=lambda: list[EngineName](["dsp"]))
    state_machine_arn: str | None = None
    # Where browsers reach S3. Unset in AWS (the real endpoint); locally the dev stack's
    # policy-checking gateway in front of moto (``http://127.0.0.1:8000/local-s3``).
    s3_public_endpoint_url: str | None = None
    work_dir: Path = Path("/tmp")
    lalal_api_key: SecretStr | None = None
    demucs_weights_path: Path | None = None  # the former name of neural_weights (still read)
    # The neural engine (issue 14): the operator's ONNX model (a folder or .onnx path, or an s3://
    # URI fetched once per container into /tmp), its SHA-256, where it runs and its memory budget.
    neural_weights: str | None = None
    neural_weights_sha256: str | None = Field(default=None, pattern=r"^[0-9A-Fa-f]{64}$")
    neural_device: Literal["cpu", "cuda", "auto"] = "cpu"
    neural_memory_budget_mb: int | None = Field(default=None, ge=256)
    neural_batch_size: int = Field(default=1, ge=1, le=64)

    @field_validator("engines", mode="before")
    @classmethod
    def _split_engines(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    def offered_engines(self) -> list[str]:
        """The engines a job may name: the configured list plus the default engine."""
        return sorted({*self.engines, self.default_engine})
    # Renditions: their own state machine (statemachines/renditions.asl.json), and new renditions
    # per user per hour (a cached one never counts); over it, 429 with Retry-After.
    renditions_state_machine_arn: str | None = None
    renditions_per_user_per_hour: int = Field(default=30, ge=1)


class AudioApiSettings(PipelineSettings, CatalogSettings):
    """The audio API function: jobs, plus catalog reads to find a track's audio."""


class DiscoverSettings(CatalogSettings):
    """Discover (issue 17): the API function and the scheduled crawler (catalog database, politeness)."""

    # SSRF guard: the crawler never fetches private, link-local or reserved addresses; loopback only
    # where this is set (the local stack and tests, which serve fixture feeds on 127.0.0.1).
    discover_allow_loopback: bool = False
    discover_user_agent: str = "MelodyDiscoverBot/1.0 (+https://melody.studio/bot)"
    discover_min_host_delay_s: float = Field(default=2.0, ge=0, le=60)
    discover_fetch_timeout_s: float = Field(default=15.0, gt=0, le=120)
    discover_max_bytes: int = Field(default=2 * 1024 * 1024, ge=1024, le=20 * 1024 * 1024)
    discover_max_redirects: int = Field(default=5, ge=0, le=10)
    discover_crawl_interval_s: int = Field(default=3600, ge=60)
    discover_crawl_workers: int = Field(default=8, ge=1, le=64)
    # The local stack's stand-in for EventBridge Scheduler: crawl due sources this often (0: never;
    # `melody discover crawl` still crawls on demand). Read by `melody dev` only.
    discover_dev_schedule_s: int = Field(default=300, ge=0)


class DeveloperApiSettings(CommonSettings):
    """The developer API's own knobs: the key pepper, the plans and which plans a user may pick."""

    # The pepper of the keys' HMAC-SHA256: a Secrets Manager secret in AWS; a value (dev/test only).
    api_key_pepper_secret_id: str | None = None
    api_key_pepper: SecretStr | None = None
    # Per plan: requests per second (the RateLimit-* headers) and requests per calendar month (UTC).
    plan_free_rate_per_s: int = Field(default=5, ge=1)
    plan_free_monthly_quota: int = Field(default=10_000, ge=1)
    plan_pro_rate_per_s: int = Field(default=50, ge=1)
    plan_pro_monthly_quota: int = Field(default=1_000_000, ge=1)
    plan_enterprise_rate_per_s: int = Field(default=500, ge=1)
    plan_enterprise_monthly_quota: int = Field(default=50_000_000, ge=1)
    # Plans a signed-in user may choose when creating a key (others are granted by operators).
    developer_self_serve_plans: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["free"])
    max_api_keys_per_user: int = Field(default=10, ge=1, le=100)
    # Optional LLM interpreter for POST /b2b/query: any OpenAI-compatible chat-completions endpoint
    # (base URL up to /v1). Unset: the rule-based parser only. On failure or timeout the rules answer.
    nl_llm_base_url: str | None = None
    nl_llm_api_key: SecretStr | None = None
    # AWS: the Secrets Manager secret holding the key (the key itself, or JSON {"api_key": ...}), read
    # once on the LLM's first use; it wins over nl_llm_api_key, which is for local use.
    nl_llm_api_key_secret_arn: str | None = None
    nl_llm_model: str = "gpt-4o-mini"
    nl_llm_timeout_s: float = Field(default=2.0, gt=0, le=10)

    @field_validator("developer_self_serve_plans", mode="before")
    @classmethod
    def _split_plans(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value


class DeveloperSettings(AudioApiSettings, DeveloperApiSettings):
    """The developer function: keys and usage (JWT), the B2B routes (API key): catalog, jobs, pipeline."""


class ScoreSettings(TokenSettings):
    """The scores API function and the score pipeline's steps (upload forms, analysis, downloads)."""

    score_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    upload_url_expires_s: int = Field(default=900, ge=60, le=3600)
    media_url_expires_s: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    # Score downloads and the engraving's MusicXML: short-lived (the view fetches them at once).
    score_url_expires_s: int = Field(default=300, ge=60, le=3600)
    s3_public_endpoint_url: str | None = None
    score_state_machine_arn: str | None = None
    work_dir: Path = Path("/tmp")
    scores_per_user_per_hour: int = Field(default=60, ge=1)


class DevSettings(AuthSettings, SystemSettings, DiscoverSettings, CatalogSettings, PipelineSettings, DeveloperApiSettings, ScoreSettings):
    """The union of every function's settings, for the single-process local stack."""


@lru_cache
def get_auth_settings() -> AuthSettings:
    return AuthSettings()


@lru_cache
def get_catalog_settings() -> CatalogSettings:
    return CatalogSettings()


@lru_cache
def get_system_settings() -> SystemSettings:
    return SystemSettings()
