"""The DynamoDB tables and S3 buckets of the product, described once.

CDK (``infra/``) builds the AWS resources from these specs and ``melody dev`` creates the same
tables and buckets in moto, so the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class KeySpec:
    name: str
    type: str = "S"  # DynamoDB scalar type: S, N or B


@dataclass(frozen=True)
class IndexSpec:
    name: str
    partition_key: KeySpec
    sort_key: KeySpec | None = None


@dataclass(frozen=True)
class TableSpec:
    construct_id: str
    settings_field: str  # the CommonSettings field that holds the physical name
    partition_key: KeySpec
    sort_key: KeySpec | None = None
    ttl_attribute: str | None = "ttl"
    indexes: tuple[IndexSpec, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class BucketSpec:
    construct_id: str
    settings_field: str


TABLES: tuple[TableSpec, ...] = (
    TableSpec("UsersTable", "users_table", KeySpec("user_id"), ttl_attribute=None),
    TableSpec("OtpChallengesTable", "otp_table", KeySpec("challenge_id")),
    TableSpec("RefreshTokensTable", "tokens_table", KeySpec("token_hash")),
    TableSpec("RateLimitsTable", "rate_limit_table", KeySpec("counter_key")),
    # Per-user library: newest-first listing (sparse: tombstones drop out) and updated_since sync.
    TableSpec(
        "LibraryTable",
        "library_table",
        KeySpec("user_id"),
        KeySpec("track_id"),
        indexes=(
            IndexSpec("by_added", KeySpec("user_id"), KeySpec("added_at", "N")),
            IndexSpec("by_updated", KeySpec("user_id"), KeySpec("updated_at", "N")),
        ),
    ),
    TableSpec("SearchCacheTable", "search_cache_table", KeySpec("cache_key")),
    # Conversion jobs; a user's jobs newest first through by_user. by_user_track is sparse: only jobs
    # for a catalog track carry user_track ("<user_id>#<track_id>"), so it holds a user's jobs per track.
    TableSpec(
        "JobsTable",
        "jobs_table",
        KeySpec("job_id"),
        ttl_attribute=None,
        indexes=(
            IndexSpec("by_user", KeySpec("user_id"), KeySpec("created_at", "N")),
            IndexSpec("by_user_track", KeySpec("user_track"), KeySpec("created_at", "N")),
        ),
    ),
    # Stems and analysis keyed by the audio's content hash and engine: processed once.
    TableSpec("AudioResultsTable", "results_table", KeySpec("result_key"), ttl_attribute=None),
    # Lyrics: LRCLIB answers ("lrclib#<hash>", expiring through ttl) and users' own LRC ("user#<user>#<track>").
    TableSpec("LyricsTable", "lyrics_table", KeySpec("lyrics_key")),
    # Developer API keys, keyed by the HMAC of the key (the key itself is never stored); a user's keys
    # through by_user. Usage: per key per day and month, billed analyses, analyze jobs (pk/sk).
    TableSpec(
        "ApiKeysTable",
        "api_keys_table",
        KeySpec("key_hash"),
        ttl_attribute=None,
        indexes=(IndexSpec("by_user", KeySpec("user_id"), KeySpec("created_at", "N")),),
    ),
    TableSpec("ApiUsageTable", "api_usage_table", KeySpec("pk"), KeySpec("sk")),
    # Renditions of converted songs (key/tempo), keyed by an id derived from (result, semitones, tempo).
    # Renditions: one record per (result, key shift, tempo, format); a result's renditions through
    # by_result (deleting a song's last job deletes them).
    TableSpec(
        "RenditionsTable",
        "renditions_table",
        KeySpec("rendition_id"),
        ttl_attribute=None,
        indexes=(IndexSpec("by_result", KeySpec("result_key")),),
    ),
    # Scores: one record per uploaded score; a user's scores newest first through by_user.
    TableSpec(
        "ScoresTable",
        "scores_table",
        KeySpec("score_id"),
        ttl_attribute=None,
        indexes=(IndexSpec("by_user", KeySpec("user_id"), KeySpec("created_at", "N")),),
    ),
)

BUCKETS: tuple[BucketSpec, ...] = (
    BucketSpec("UploadsBucket", "uploads_bucket"),
    BucketSpec("MediaBucket", "media_bucket"),
)


def create_table_request(spec: TableSpec, table_name: str) -> dict[str, Any]:
    """The ``CreateTable`` arguments for a spec (on-demand billing, as in AWS)."""
    keys = [spec.partition_key] + ([spec.sort_key] if spec.sort_key else [])
    attributes = {k.name: k.type for k in keys}
    request: dict[str, Any] = {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": spec.partition_key.name, "KeyType": "HASH"}]
        + ([{"AttributeName": spec.sort_key.name, "KeyType": "RANGE"}] if spec.sort_key else []),
    }
    gsis = []
    for index in spec.indexes:
        ikeys = [index.partition_key] + ([index.sort_key] if index.sort_key else [])
        attributes.update({k.name: k.type for k in ikeys})
        gsis.append(
            {
                "IndexName": index.name,
                "KeySchema": [{"AttributeName": index.partition_key.name, "KeyType": "HASH"}]
                + ([{"AttributeName": index.sort_key.name, "KeyType": "RANGE"}] if index.sort_key else []),
                "Projection": {"ProjectionType": "ALL"},
            }
        )
    request["AttributeDefinitions"] = [{"AttributeName": n, "AttributeType": t} for n, t in attributes.items()]
    if gsis:
        request["GlobalSecondaryIndexes"] = gsis
    return request
