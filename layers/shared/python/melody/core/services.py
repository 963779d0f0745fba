"""The one place that builds services: every feature's service from settings, picking its adapters.

Each property imports its feature and adapters when first read, so a function loads only what its
routes use (cold start): the users function never imports the OTP, phone-number or signing-key
code, and no API function imports the pipeline steps. Tests and the local stack pass fakes or
shared pieces through the constructor's keyword arguments.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from melody.core.clock import Clock, SystemClock
from melody.core.errors import ServiceUnavailable

if TYPE_CHECKING:
    from melody.auth.keys import KeyMaterial
    from melody.auth.otp import OtpService
    from melody.auth.ports import SmsSender
    from melody.auth.tokens import TokenService
    from melody.auth.verify import AccessTokenVerifier, VerificationKeys
    from melody.catalog.audio_admin import CatalogAudioService
    from melody.catalog.home import HomeService
    from melody.catalog.ports import InstrumentalStatusLookup, TrackAttributesWriter
    from melody.catalog.postgres.repository import CatalogRepository
    from melody.catalog.service import MusicSearchService
    from melody.catalog.track_audio import CatalogTrackAudio
    from melody.conversions.reconcile import ExecutionReconciler
    from melody.conversions.service import JobService
    from melody.conversions.steps import PipelineSteps
    from melody.core.s3 import S3Storage
    from melody.core.settings import AuthSettings
    from melody.core.sql.executor import SqlExecutor
    from melody.developer.finder import TrackFinder
    from melody.developer.service import DeveloperService
    from melody.discover.crawl import Crawler
    from melody.discover.fetch import Fetcher
    from melody.discover.postgres import DiscoverRepository
    from melody.discover.service import DiscoverService
    from melody.library.service import LibraryService
    from melody.lyrics.service import LyricsService
    from melody.renditions.service import RenditionService
    from melody.renditions.steps import RenditionSteps
    from melody.scores.service import ScoreService
    from melody.scores.steps import ScoreSteps
    from melody.users.service import UserService

__all__ = ["Services", "build_sms_sender", "check_sms_settings", "neural_weights_revision", "result_revisions"]


class Services:
    """Settings plus every service, built lazily. ``settings`` is the function's settings model.

    Whether this process signs tokens follows from its settings: :class:`AuthSettings` (the auth
    function, the single-process dev stack) holds the private key material; every other function
    verifies access tokens against the issuer's JWKS (``jwks_url``) or, locally, the key file.
    """

    def __init__(
        self,
        settings: Any,
        *,
        clock: Clock | None = None,
        sms_sender: SmsSender | None = None,
        workflow: Any = None,
        instrumental: InstrumentalStatusLookup | None = None,
        providers: Any = None,
        cache: Any = None,
        executor: SqlExecutor | None = None,
        storage: S3Storage | None = None,
        track_audio: CatalogTrackAudio | None = None,
        lyrics_provider: Any = None,
    ) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self._sms_sender = sms_sender
        self._workflow = workflow
        self._instrumental = instrumental
        self._providers = providers
        self._cache = cache
        self._lyrics_provider = lyrics_provider
        # Given pieces fill the cached properties of the same name (and survive renew_clients).
        given = {"executor": executor, "storage": storage, "track_audio": track_audio}
        self._given = {name: piece for name, piece in given.items() if piece is not None}
        self.__dict__.update(self._given)

    def renew_clients(self) -> None:
        """Forget every service and client built so far; the next use builds fresh ones.

        After a SnapStart restore (see :mod:`melody.core.snapstart`): network clients made before
        the snapshot are shared by every restored environment and their connections may be stale.
        Settings, the clock, key material and pieces given to the constructor are kept.
        """
        from melody.core.dynamodb import drop_connections

        keep = {"settings", "clock", "keys", *self._given}
        for name, value in list(vars(type(self)).items()):
            if isinstance(value, cached_property) and name not in keep:
                self.__dict__.pop(name, None)
        drop_connections()

    @property
    def signs_tokens(self) -> bool:
        from melody.core.settings import AuthSettings

        return isinstance(self.settings, AuthSettings)

    # -- tokens (every protected route) ------------------------------------------------------

    @cached_property
    def keys(self) -> KeyMaterial:
        """The private key material: the auth function (and the single-process dev stack) only."""
        from melody.auth.key_file import load_key_material

        return load_key_material(self.settings)

    @cached_property
    def verification_keys(self) -> VerificationKeys:
        if self.signs_tokens or not self.settings.jwks_url:
            return self.keys  # the signer checks its own tokens with its own keys
        from melody.auth.jwks import RemoteJwks

        return RemoteJwks(self.settings.jwks_url)

    @cached_property
    def verifier(self) -> AccessTokenVerifier:
        from melody.auth.verify import AccessTokenVerifier

        return AccessTokenVerifier(
            self.verification_keys, issuer=self.settings.jwt_issuer, audience=self.settings.jwt_audience
        )

    # -- auth and users ----------------------------------------------------------------------

    @cached_property
    def users(self) -> UserService:
        from melody.users.dynamodb import DynamoUserStore, bind_user_model
        from melody.users.service import UserService

        bind_user_model(self.settings)
        # Only the signer derives user ids from phone numbers (login); elsewhere profiles only.
        hmac_key = self.keys.hmac_key if self.signs_tokens else None
        return UserService(DynamoUserStore(), self.clock, hmac_key=hmac_key)

    def origin_verify_secret(self) -> str | None:
        """CloudFront's origin-verify value (cached by powertools for 5 minutes), or None locally."""
        secret_id = getattr(self.settings, "origin_verify_secret_id", None)
        if not secret_id:
            return None
        from aws_lambda_powertools.utilities import parameters

        return str(parameters.get_secret(secret_id, max_age=300))

    def check_sms_sender(self) -> None:
        """Refuse, without building it, a sender that cannot work here (the auth function's init:
        a misconfigured deploy fails its start, not a login; its client is built on first use)."""
        if self._sms_sender is None:
            check_sms_settings(self.settings)

    @cached_property
    def sms_sender(self) -> SmsSender:
        if self._sms_sender is not None:
            return self._sms_sender
        return build_sms_sender(self.settings)

    @cached_property
    def otp(self) -> OtpService:
        from melody.auth.dynamodb import DynamoChallengeStore, DynamoRateLimiter
        from melody.auth.dynamodb_models import bind_auth_models
        from melody.auth.otp import OtpPolicy, OtpService

        s = self.settings
        bind_auth_models(s)
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
        from melody.auth.dynamodb import DynamoRefreshTokenStore
        from melody.auth.dynamodb_models import bind_auth_models
        from melody.auth.tokens import TokenService

        s = self.settings
        bind_auth_models(s)
        return TokenService(
            self.keys,
            DynamoRefreshTokenStore(),
            self.clock,
            issuer=s.jwt_issuer,
            audience=s.jwt_audience,
            access_ttl_s=s.access_token_ttl_s,
            refresh_ttl_s=s.refresh_token_ttl_s,
            refresh_grace_s=s.refresh_grace_s,
            roles_for=self.roles_for,
        )

    def roles_for(self, user_id: str) -> tuple[str, ...]:
        """``("admin",)`` for a user whose phone number the operators listed (MELODY_ADMIN_PHONES)."""
        admins = set(getattr(self.settings, "admin_phones", None) or ())
        if not admins:
            return ()
        from melody.core.errors import NotFound

        try:
            phone = self.users.get(user_id).phone_e164
        except NotFound:
            return ()
        return ("admin",) if phone in admins else ()

    # -- the catalog (search, tracks, trending) and the library -------------------------------

    @cached_property
    def executor(self) -> SqlExecutor:
        from melody.core.sql.connect import catalog_executor

        executor = catalog_executor(self.settings)
        if executor is None:
            raise ServiceUnavailable("The song catalog is not configured.", code="catalog_not_configured")
        return executor

    @cached_property
    def catalog(self) -> CatalogRepository:
        from melody.catalog.postgres.repository import CatalogRepository

        return CatalogRepository(self.executor)

    @cached_property
    def storage(self) -> S3Storage:
        """S3 for presigning: locally ``s3_public_endpoint_url`` is the dev stack's ``/local-s3`` gateway."""
        from melody.core.s3 import storage_for

        return storage_for(self.settings)

    @cached_property
    def track_audio(self) -> CatalogTrackAudio:
        from melody.catalog.track_audio import CatalogTrackAudio

        return CatalogTrackAudio(lambda: self.executor, self.settings.media_bucket)

    def audio_url(self, track_id: str, *, title: str | None = None) -> str | None:
        """A short-lived presigned GET of the track's original audio, or None when it has none."""
        expires_s = getattr(self.settings, "media_url_expires_s", 3600)
        return self.track_audio.audio_url(track_id, self.storage, expires_s=expires_s, title=title)

    @cached_property
    def instrumental(self) -> InstrumentalStatusLookup:
        """The status of the user's newest conversion job for each track."""
        if self._instrumental is not None:
            return self._instrumental
        from melody.catalog.ports import NoInstrumentalStatus

        if not getattr(self.settings, "jobs_table", None):
            return NoInstrumentalStatus()
        from melody.conversions.dynamodb import JobsInstrumentalStatus, bind_job_models

        bind_job_models(self.settings)
        return JobsInstrumentalStatus()

    @cached_property
    def library(self) -> LibraryService:
        from melody.library.dynamodb import DynamoLibraryStore, bind_library_model
        from melody.library.service import LibraryService

        bind_library_model(self.settings)
        return LibraryService(DynamoLibraryStore(), self.catalog, self.clock, self.instrumental)

    @cached_property
    def providers(self) -> Any:
        if self._providers is not None:
            return self._providers
        from melody.catalog.providers import build_providers

        return build_providers(self.settings)

    @cached_property
    def search_cache(self) -> Any:
        if self._cache is not None:
            return self._cache
        from melody.catalog.providers.cache import DynamoSearchCache, bind_search_cache_model

        bind_search_cache_model(self.settings)
        return DynamoSearchCache()

    @cached_property
    def lyrics(self) -> LyricsService:
        """Synced lyrics: the caller's attached LRC, else LRCLIB's (cached in ``lyrics_table``)."""
        from melody.conversions.dynamodb import DynamoJobStore, bind_job_models
        from melody.lyrics.dynamodb import DynamoLyricsStore, bind_lyrics_model
        from melody.lyrics.service import LyricsService
        from melody.lyrics.songs import CatalogAndUploads

        bind_lyrics_model(self.settings)
        bind_job_models(self.settings)
        return LyricsService(
            DynamoLyricsStore(),
            CatalogAndUploads(lambda: self.catalog, DynamoJobStore),
            provider=lambda: self.lyrics_provider,
            clock=self.clock,
            cache_ttl_s=getattr(self.settings, "lyrics_cache_ttl_s", 7 * 24 * 3600),
            provider_timeout_s=getattr(self.settings, "lyrics_timeout_s", 3.0),
        )

    @cached_property
    def lyrics_provider(self) -> Any:
        """LRCLIB (no credentials), or None when ``lyrics_provider`` is empty; tests pass a transport."""
        if self._lyrics_provider is not None:
            return self._lyrics_provider
        if getattr(self.settings, "lyrics_provider", "lrclib") != "lrclib":
            return None
        from melody.lyrics.lrclib import LrclibProvider

        return LrclibProvider(
            base_url=getattr(self.settings, "lrclib_base_url", "https://lrclib.net"),
            timeout=getattr(self.settings, "lyrics_timeout_s", 3.0),
        )

    @cached_property
    def search(self) -> MusicSearchService:
        from melody.catalog.service import MusicSearchService

        return MusicSearchService(
            self.catalog,
            providers=lambda: self.providers,
            cache=lambda: self.search_cache,
            clock=self.clock,
            cache_ttl_s=getattr(self.settings, "search_cache_ttl_s", 0),
            provider_timeout_s=getattr(self.settings, "provider_timeout_s", 2.5),
        )

    @cached_property
    def home(self) -> HomeService:
        """The home screen: the catalog, the caller's preferences (users table), plays (library
        table) and catalog conversions (jobs table, read-only)."""
        from melody.catalog.activity import LibraryAndJobsActivity, UserPreferences
        from melody.catalog.home import HomeService
        from melody.library.dynamodb import DynamoLibraryStore, bind_library_model

        bind_library_model(self.settings)
        job_store = None
        if getattr(self.settings, "jobs_table", None):
            from melody.conversions.dynamodb import DynamoJobStore, bind_job_models

            bind_job_models(self.settings)
            job_store = DynamoJobStore()
        return HomeService(
            self.catalog,
            UserPreferences(self.users),
            LibraryAndJobsActivity(DynamoLibraryStore(), job_store),
            self.instrumental,
            self.clock,
        )

    @cached_property
    def catalog_audio(self) -> CatalogAudioService:
        """Operators attach licensed audio to catalog tracks (upload form, attach → the pipeline)."""
        from melody.catalog.audio_admin import CatalogAudioService
        from melody.conversions.dynamodb import DynamoJobStore, DynamoResultStore, bind_job_models
        from melody.conversions.service import JobService
        from melody.conversions.storage import UploadStorage

        s = self.settings
        bind_job_models(s)
        max_bytes = getattr(s, "catalog_audio_max_bytes", 200 * 1024 * 1024)
        expires_s = getattr(s, "upload_url_expires_s", 900)
        # Only convert_track is used: a catalog job reads the track's audio, never an upload.
        conversions = JobService(
            DynamoJobStore(),
            DynamoResultStore(),
            UploadStorage(self.storage),
            self.workflow,
            self.clock,
            uploads_bucket=s.uploads_bucket,
            media_bucket=s.media_bucket,
            max_upload_bytes=max_bytes,
            upload_url_expires_s=expires_s,
            media_url_expires_s=getattr(s, "media_url_expires_s", 3600),
            default_engine=getattr(s, "default_engine", "dsp"),
            engines=s.offered_engines() if hasattr(s, "offered_engines") else None,
            track_audio=self.track_audio,
        )
        return CatalogAudioService(
            self.catalog, self.storage, conversions,
            media_bucket=s.media_bucket, max_bytes=max_bytes, upload_expires_s=expires_s,
        )

    def catalog_attributes_writer(self) -> TrackAttributesWriter | None:
        """Where the persist step writes a catalog track's analysed attributes: the catalog, when
        this process has one (given, or configured); None otherwise (nothing is written)."""
        if "executor" not in self._given and not catalog_executor_configured(self.settings):
            return None
        from melody.catalog.attributes import LazyAttributesWriter

        return LazyAttributesWriter(lambda: self.catalog)

    # -- discover (sources, crawler, follows, feed) ---------------------------------------------

    @cached_property
    def discover_store(self) -> DiscoverRepository:
        from melody.discover.postgres import DiscoverRepository

        return DiscoverRepository(self.executor)

    @cached_property
    def discover_fetcher(self) -> Fetcher:
        from melody.discover.fetch import Fetcher, FetchPolicy

        s = self.settings
        return Fetcher(
            FetchPolicy(
                user_agent=getattr(s, "discover_user_agent", FetchPolicy.user_agent),
                min_host_delay_s=getattr(s, "discover_min_host_delay_s", 2.0),
                timeout_s=getattr(s, "discover_fetch_timeout_s", 15.0),
                max_bytes=getattr(s, "discover_max_bytes", 2 * 1024 * 1024),
                max_redirects=getattr(s, "discover_max_redirects", 5),
                allow_loopback=bool(getattr(s, "discover_allow_loopback", False)),
            )
        )

    @cached_property
    def discover_crawler(self) -> Crawler:
        from melody.discover.crawl import Crawler
        from melody.discover.match import CatalogMatcher

        s = self.settings
        return Crawler(
            self.discover_store,
            self.discover_fetcher,
            CatalogMatcher(self.catalog, self.discover_store),
            self.clock,
            interval_s=getattr(s, "discover_crawl_interval_s", 3600),
            workers=getattr(s, "discover_crawl_workers", 8),
        )

    @cached_property
    def discover(self) -> DiscoverService:
        from melody.catalog.activity import UserPreferences
        from melody.discover.service import DiscoverService

        return DiscoverService(
            self.discover_store,
            lambda: self.catalog,
            languages_of=UserPreferences(self.users).preferred_languages,
            crawler=lambda: self.discover_crawler,
        )

    # -- conversions (uploads, jobs, the pipeline's steps) ------------------------------------

    def use_workflow(self, workflow: Any) -> None:
        """Start executions with ``workflow`` (the local stack's ASL runner) instead of Step Functions."""
        self._workflow = workflow
        self.__dict__.pop("workflow", None)
        self.__dict__.pop("jobs", None)

    @cached_property
    def workflow(self) -> Any:
        if self._workflow is not None:
            return self._workflow
        import boto3

        from melody.conversions.workflow import StepFunctionsStarter

        arn = getattr(self.settings, "state_machine_arn", None)
        if not arn:
            raise RuntimeError("MELODY_STATE_MACHINE_ARN is not set")
        return StepFunctionsStarter(boto3.client("stepfunctions", region_name=self.settings.aws_region), arn)

    @cached_property
    def jobs(self) -> JobService:
        from melody.auth.dynamodb import DynamoRateLimiter
        from melody.auth.dynamodb_models import bind_auth_models
        from melody.conversions.dynamodb import DynamoJobStore, DynamoResultStore, bind_job_models
        from melody.conversions.metrics import emit_upload_replay_ignored
        from melody.conversions.service import JobService, UploadLimits
        from melody.conversions.storage import UploadStorage
        from melody.library.dynamodb import DynamoLibraryStore, bind_library_model
        from melody.renditions.dynamodb import DynamoRenditionStore, bind_rendition_model

        s = self.settings
        bind_job_models(s)
        bind_auth_models(s)  # the rate-limit table: the upload limits share the auth limiter's counters
        bind_library_model(s)  # uploads' library entries: links, titles, deletion
        bind_rendition_model(s)  # a song's renditions go with its last job (deletion only)
        return JobService(
            DynamoJobStore(),
            DynamoResultStore(),
            UploadStorage(self.storage),
            self.workflow,
            self.clock,
            uploads_bucket=s.uploads_bucket,
            media_bucket=s.media_bucket,
            max_upload_bytes=s.max_upload_bytes,
            upload_url_expires_s=s.upload_url_expires_s,
            media_url_expires_s=s.media_url_expires_s,
            default_engine=s.default_engine,
            engines=s.offered_engines(),
            track_audio=self.track_audio,
            limiter=DynamoRateLimiter(),
            limits=UploadLimits(
                per_minute=s.uploads_per_user_per_minute,
                per_hour=s.uploads_per_user_per_hour,
                max_pending=s.max_pending_uploads_per_user,
            ),
            on_replay=emit_upload_replay_ignored,
            library=DynamoLibraryStore(),
            tracks=lambda: self.catalog,
            matcher=self._track_matcher,
            storage_quota_bytes=getattr(s, "storage_quota_bytes", None),
            renditions=DynamoRenditionStore(),
        )

    def _track_matcher(self) -> Any:
        """Uploads' tags against the catalog (its own search, no providers); None without a catalog."""
        from melody.conversions.matching import CatalogTrackMatcher

        s = self.settings
        if "executor" not in self.__dict__ and not (getattr(s, "database_url", None) or getattr(s, "catalog_cluster_arn", None)):
            return None
        return CatalogTrackMatcher(self.search)

    @cached_property
    def steps(self) -> PipelineSteps:
        from melody.conversions.dynamodb import DynamoJobStore, DynamoResultStore, bind_job_models
        from melody.conversions.metrics import emit_failure_metric, emit_step_metric
        from melody.conversions.steps import PipelineSteps
        from melody.conversions.storage import UploadStorage

        s = self.settings
        bind_job_models(s)
        engine_options: dict[str, dict[str, Any]] = {}
        if getattr(s, "lalal_api_key", None):
            engine_options["lalal"] = {"license_key": s.lalal_api_key.get_secret_value()}
        neural_weights = getattr(s, "neural_weights", None) or getattr(s, "demucs_weights_path", None)
        if neural_weights:
            # the neural engine (and its former name, demucs): the operator's weights, never a hub
            neural = {
                "weights": str(neural_weights),
                "weights_sha256": s.neural_weights_sha256,
                "device": s.neural_device,
                "memory_budget_mb": s.neural_memory_budget_mb,
                "batch_size": s.neural_batch_size,
            }
            engine_options["neural"] = engine_options["demucs"] = neural
        from melody.conversions.completion import CompletionRecorder
        from melody.library.dynamodb import DynamoLibraryStore, bind_library_model

        bind_library_model(s)
        results = DynamoResultStore()
        # A job's success also counts it as a reference of its result and, for an upload, adds it to the library.
        jobs = CompletionRecorder(DynamoJobStore(), results, DynamoLibraryStore(), self.clock)
        return PipelineSteps(
            jobs,
            results,
            UploadStorage(self.storage),
            self.clock,
            media_bucket=s.media_bucket,
            work_dir=s.work_dir,
            max_upload_bytes=s.max_upload_bytes,
            max_duration_s=s.max_duration_s,
            engine_options=engine_options,
            engine_revisions=result_revisions(s),
            on_step=emit_step_metric,
            on_failure=emit_failure_metric,
            catalog_attributes=self.catalog_attributes_writer(),
        )

    @cached_property
    def execution_reconciler(self) -> ExecutionReconciler:
        """Fails the jobs (and renditions) left running by executions that ended outside their Catch:
        the jobs and renditions tables only (no results, library or buckets), with MarkFailed's metrics."""
        from melody.conversions.dynamodb import DynamoJobStore, bind_job_models
        from melody.conversions.metrics import emit_failure_metric, emit_step_metric
        from melody.conversions.reconcile import ExecutionReconciler, Tracked
        from melody.renditions.dynamodb import DynamoRenditionStore, bind_rendition_model
        from melody.renditions.models import execution_name as rendition_execution_name

        bind_job_models(self.settings)
        bind_rendition_model(self.settings)
        renditions = Tracked(
            "rendition_id",
            DynamoRenditionStore(),
            rendition_execution_name,
            on_marked=lambda code: emit_step_metric("renditions", "failed", 0.0),  # as its MarkFailed
            attempt_of=lambda rendition: rendition.attempt,  # a failed rendition asked for again runs anew
        )
        return ExecutionReconciler(
            DynamoJobStore(), self.clock, on_step=emit_step_metric, on_failure=emit_failure_metric, also=(renditions,)
        )

    # -- renditions (key/tempo changes of converted songs, their state machine's steps) --------

    def use_renditions_workflow(self, workflow: Any) -> None:
        """Start renditions with ``workflow`` (the local stack's ASL runner) instead of Step Functions."""
        self._renditions_workflow = workflow  # an attribute, so renew_clients keeps it
        self.__dict__.pop("renditions_workflow", None)
        self.__dict__.pop("renditions", None)

    @cached_property
    def renditions_workflow(self) -> Any:
        given = getattr(self, "_renditions_workflow", None)
        if given is not None:
            return given
        import boto3

        from melody.conversions.workflow import StepFunctionsStarter

        arn = getattr(self.settings, "renditions_state_machine_arn", None)
        if not arn:
            raise RuntimeError("MELODY_RENDITIONS_STATE_MACHINE_ARN is not set")
        return StepFunctionsStarter(boto3.client("stepfunctions", region_name=self.settings.aws_region), arn)

    @cached_property
    def renditions(self) -> RenditionService:
        from melody.auth.dynamodb import DynamoRateLimiter
        from melody.auth.dynamodb_models import bind_auth_models
        from melody.conversions.dynamodb import DynamoJobStore, bind_job_models
        from melody.conversions.storage import UploadStorage
        from melody.renditions.dynamodb import DynamoRenditionStore, bind_rendition_model
        from melody.renditions.service import RenditionService

        s = self.settings
        bind_job_models(s)
        bind_auth_models(s)  # the rate-limit table: new renditions per user per hour
        bind_rendition_model(s)
        return RenditionService(
            DynamoJobStore(),
            DynamoRenditionStore(),
            UploadStorage(self.storage),
            self.renditions_workflow,
            self.clock,
            media_bucket=s.media_bucket,
            media_url_expires_s=s.media_url_expires_s,
            limiter=DynamoRateLimiter(),
            per_user_per_hour=getattr(s, "renditions_per_user_per_hour", 30),
        )

    @cached_property
    def rendition_steps(self) -> RenditionSteps:
        from melody.conversions.dynamodb import DynamoResultStore, bind_job_models
        from melody.conversions.metrics import emit_step_metric
        from melody.conversions.storage import UploadStorage
        from melody.renditions.dynamodb import DynamoRenditionStore, bind_rendition_model
        from melody.renditions.steps import RenditionSteps

        s = self.settings
        bind_job_models(s)
        bind_rendition_model(s)
        return RenditionSteps(
            DynamoRenditionStore(),
            DynamoResultStore(),
            UploadStorage(self.storage),
            self.clock,
            media_bucket=s.media_bucket,
            work_dir=s.work_dir,
            on_step=emit_step_metric,
        )


    # -- the developer API (keys, plans, usage) -------------------------------------------------

    def api_key_pepper(self) -> bytes:
        """The HMAC pepper of API keys: Secrets Manager (cached by powertools for 5 minutes) in AWS,
        ``MELODY_API_KEY_PEPPER`` if given, a fixed dev value in dev/test only; else 503."""
        s = self.settings
        secret_id = getattr(s, "api_key_pepper_secret_id", None)
        if secret_id:
            from aws_lambda_powertools.utilities import parameters

            return str(parameters.get_secret(secret_id, max_age=300)).encode()
        pepper = getattr(s, "api_key_pepper", None)
        if pepper is not None:
            return str(pepper.get_secret_value()).encode()
        if s.is_dev:
            return b"melody-dev-api-key-pepper"
        raise ServiceUnavailable("API keys are not configured.", code="api_keys_not_configured")

    @cached_property
    def developer(self) -> DeveloperService:
        from melody.developer.dynamodb import DynamoApiKeyStore, DynamoUsageMeter, bind_developer_models
        from melody.developer.plans import plans_from_settings
        from melody.developer.service import DeveloperService

        s = self.settings
        bind_developer_models(s)
        return DeveloperService(
            DynamoApiKeyStore(),
            DynamoUsageMeter(),
            self.clock,
            pepper=self.api_key_pepper,
            plans=plans_from_settings(s),
            self_serve_plans=s.developer_self_serve_plans,
            max_keys_per_user=s.max_api_keys_per_user,
        )

    @cached_property
    def track_finder(self) -> TrackFinder:
        """B2B search: the natural-language query interpreter (rules; an LLM when configured), attribute
        and harmonic search, next tracks; songs named in a query are found with the catalog's search."""
        from melody.catalog.postgres.attribute_search import AttributeSearchRepository
        from melody.catalog.postgres.repository import artist_id
        from melody.catalog.search import search_catalog
        from melody.developer.finder import TrackFinder
        from melody.developer.interpret.rules import RulesInterpreter

        s = self.settings
        rules = RulesInterpreter()
        interpreter: Any = rules
        if getattr(s, "nl_llm_base_url", None):
            import httpx

            from melody.developer.interpret.llm import LlmInterpreter

            api_key: Any = s.nl_llm_api_key.get_secret_value() if s.nl_llm_api_key else None
            if getattr(s, "nl_llm_api_key_secret_arn", None):  # AWS: read on first use, again after 5 min or a 401
                from melody.developer.interpret.secret import LazySecret, SecretsManagerReader

                api_key = LazySecret(s.nl_llm_api_key_secret_arn, SecretsManagerReader(s.aws_region))
            interpreter = LlmInterpreter(httpx.Client(), base_url=s.nl_llm_base_url, api_key=api_key,
                                         model=s.nl_llm_model, fallback=rules, timeout_s=s.nl_llm_timeout_s)

        def resolve(text: str) -> str | None:
            hits = search_catalog(self.catalog, text, language=None).hits
            return hits[0].track.id if hits else None

        return TrackFinder(AttributeSearchRepository(self.executor), interpreter, resolve=resolve, artist_id=artist_id)

    # -- scores (uploaded MusicXML/MIDI/ABC: uploads, analysis pipeline steps) -----------------

    def use_score_workflow(self, workflow: Any) -> None:
        """Start score analyses with ``workflow`` (the local stack's ASL runner) instead of Step Functions."""
        self._score_workflow = workflow  # an attribute, so renew_clients keeps it
        self.__dict__.pop("score_workflow", None)
        self.__dict__.pop("scores", None)

    @cached_property
    def score_workflow(self) -> Any:
        given = getattr(self, "_score_workflow", None)
        if given is not None:
            return given
        arn = getattr(self.settings, "score_state_machine_arn", None)
        if not arn:
            return None  # the API function creates uploads only; the trigger has the ARN
        import boto3

        from melody.conversions.workflow import StepFunctionsStarter

        return StepFunctionsStarter(boto3.client("stepfunctions", region_name=self.settings.aws_region), arn)

    @cached_property
    def scores(self) -> ScoreService:
        from melody.auth.dynamodb import DynamoRateLimiter
        from melody.auth.dynamodb_models import bind_auth_models
        from melody.scores.dynamodb import DynamoScoreStore, bind_score_model
        from melody.scores.service import ScoreService
        from melody.scores.storage import ScoreStorage

        s = self.settings
        bind_score_model(s)
        bind_auth_models(s)  # the rate-limit table: score uploads count like the audio ones
        return ScoreService(
            DynamoScoreStore(),
            ScoreStorage(self.storage),
            self.score_workflow,
            self.clock,
            uploads_bucket=s.uploads_bucket,
            media_bucket=s.media_bucket,
            max_bytes=s.score_max_bytes,
            upload_url_expires_s=s.upload_url_expires_s,
            url_expires_s=s.score_url_expires_s,
            limiter=DynamoRateLimiter(),
            per_hour=s.scores_per_user_per_hour,
        )

    @cached_property
    def score_steps(self) -> ScoreSteps:
        from melody.scores.dynamodb import DynamoScoreStore, bind_score_model
        from melody.scores.steps import ScoreSteps
        from melody.scores.storage import ScoreStorage

        s = self.settings
        bind_score_model(s)
        return ScoreSteps(
            DynamoScoreStore(), ScoreStorage(self.storage), self.clock,
            media_bucket=s.media_bucket, work_dir=s.work_dir, max_bytes=s.score_max_bytes,
        )

    @cached_property
    def score_execution_reconciler(self) -> ExecutionReconciler:
        """Fails the scores left running by score analyses that ended outside their Catch: the scores
        table only; each score it fails counts as a system failure (``PipelineFailures``, ``kind=system``)."""
        from melody.conversions.metrics import emit_failure_metric
        from melody.scores.dynamodb import DynamoScoreStore, bind_score_model
        from melody.scores.reconcile import score_reconciler

        bind_score_model(self.settings)
        return score_reconciler(DynamoScoreStore(), self.clock, on_marked=lambda code: emit_failure_metric("system", code))


def catalog_executor_configured(settings: object) -> bool:
    """Whether ``settings`` name a catalog database (a URL, or the Data API's cluster and secret)."""
    return getattr(settings, "database_url", None) is not None or bool(
        getattr(settings, "catalog_cluster_arn", None) and getattr(settings, "catalog_secret_arn", None)
    )


def check_sms_settings(settings: AuthSettings) -> None:
    if settings.sms_sender == "console" and settings.stage not in ("dev", "test"):
        raise RuntimeError("the console SMS sender is for dev only; configure sns or msg91")
    if settings.sms_sender == "msg91" and not (settings.msg91_auth_key and settings.msg91_template_id):
        raise RuntimeError("msg91 needs MELODY_MSG91_AUTH_KEY and MELODY_MSG91_TEMPLATE_ID")


def build_sms_sender(settings: AuthSettings) -> SmsSender:
    from melody.auth import sms

    check_sms_settings(settings)
    if settings.sms_sender == "console":
        return sms.ConsoleSmsSender(settings.stage)
    if settings.sms_sender == "msg91":
        import httpx

        assert settings.msg91_auth_key is not None and settings.msg91_template_id is not None
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


def result_revisions(settings: object) -> dict[str, str]:
    """Engine name -> the revision its result key carries: what its stems and analysis depend on
    besides the song, so a re-upload after an upgrade computes them again instead of reusing them.

    The engine's own revision (dsp: its class ``version``; neural and its former name demucs: the
    weights' :func:`neural_weights_revision`; lalal: none, its model is the provider's), then
    ``a<analysis version>`` (``melody_audio.__version__``): ``1.1.0.a0.2.0``, ``<sha16>.a0.2.0``,
    ``a0.2.0``. Only class attributes are read: no engine is built, no model loaded.

    Without the audio layer (the API functions, which never compute a result key) only the neural
    weights' revision, as before the analysis version was part of the key.
    """
    neural = neural_weights_revision(settings)
    neural = _key_safe(neural) if neural else None
    try:
        # heavy (numpy/scipy) and absent from the API functions: imported only here, on use
        import melody_audio
        from melody_audio.separate.dsp import DspEngine
    except ImportError:
        return {"neural": neural, "demucs": neural} if neural else {}
    analysis = "a" + _key_safe(melody_audio.__version__)
    own = {"dsp": _key_safe(DspEngine.version), "lalal": None, "neural": neural, "demucs": neural}
    return {engine: f"{revision}.{analysis}" if revision else analysis for engine, revision in own.items()}


def _key_safe(version: str) -> str:
    """A version as it can stand in S3 keys and URLs (``1.2.0+local`` -> ``1.2.0-local``)."""
    import re

    return re.sub(r"[^A-Za-z0-9._-]", "-", version)


def neural_weights_revision(settings: object) -> str | None:
    """What the neural engine's stems depend on besides the song: the weights' SHA-256 (16 hex digits).

    The configured ``neural_weights_sha256`` (set on every pipeline step in AWS), else the ``sha256``
    of a local weights folder's ``model.json``; ``None`` when no neural weights are configured or a
    local manifest cannot be read (the separate step then fails on it with its own error)."""
    configured = getattr(settings, "neural_weights_sha256", None)
    if configured:
        return str(configured).lower()[:16]
    weights = getattr(settings, "neural_weights", None) or getattr(settings, "demucs_weights_path", None)
    if not weights or str(weights).startswith("s3://"):
        return None
    import json
    from pathlib import Path

    try:
        digest = json.loads((Path(str(weights)) / "model.json").read_text()).get("sha256")
    except (OSError, ValueError, AttributeError):
        return None
    return str(digest).lower()[:16] if isinstance(digest, str) and digest else None
