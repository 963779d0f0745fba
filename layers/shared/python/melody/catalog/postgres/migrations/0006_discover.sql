-- Discover (issue 17): blog and feed sources, their posts, the songs each post talks about, and who
-- follows what. In PostgreSQL next to the catalog, not DynamoDB: the feed is one indexed query that
-- joins a user's follows with the newest posts of those sources (and of posts naming followed
-- artists' catalog songs), one round trip however many sources are followed.

CREATE TABLE IF NOT EXISTS discover_sources (
    source_id            text PRIMARY KEY,
    url                  text NOT NULL UNIQUE,
    feed_url             text,
    name                 text NOT NULL,
    language             text,
    status               text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'suggested')),
    suggested_by         text,
    etag                 text,
    last_modified        text,
    last_crawled_at      timestamptz,
    last_success_at      timestamptz,
    next_crawl_at        timestamptz NOT NULL DEFAULT now(),
    consecutive_failures integer NOT NULL DEFAULT 0,
    last_error           text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS discover_sources_due ON discover_sources (next_crawl_at) WHERE status = 'active';

CREATE TABLE IF NOT EXISTS discover_posts (
    post_id       text PRIMARY KEY,
    source_id     text NOT NULL REFERENCES discover_sources (source_id) ON DELETE CASCADE,
    guid          text,
    canonical_url text NOT NULL,
    url           text NOT NULL,
    title         text NOT NULL,
    summary       text NOT NULL,
    content_hash  text NOT NULL,
    published_at  timestamptz NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source_id, canonical_url)
);
-- The feed: newest first per followed source (keyset pagination on published_at, post_id).
CREATE INDEX IF NOT EXISTS discover_posts_source_published ON discover_posts (source_id, published_at DESC, post_id DESC);
CREATE INDEX IF NOT EXISTS discover_posts_guid ON discover_posts (source_id, guid) WHERE guid IS NOT NULL;

CREATE TABLE IF NOT EXISTS discover_post_songs (
    post_id     text NOT NULL REFERENCES discover_posts (post_id) ON DELETE CASCADE,
    position    integer NOT NULL,
    artist      text,
    title       text,
    provider    text,
    external_id text,
    url         text,
    track_id    text REFERENCES songs (track_id) ON DELETE SET NULL,
    PRIMARY KEY (post_id, position)
);
CREATE INDEX IF NOT EXISTS discover_post_songs_track ON discover_post_songs (track_id) WHERE track_id IS NOT NULL;

-- Catalog songs the crawler created because a post named a song the catalog did not have.
CREATE TABLE IF NOT EXISTS discovered_tracks (
    track_id      text PRIMARY KEY REFERENCES songs (track_id) ON DELETE CASCADE,
    first_post_id text,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS discover_follows (
    user_id    text NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('source', 'artist')),
    target_id  text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, kind, target_id)
);
CREATE INDEX IF NOT EXISTS discover_follows_target ON discover_follows (kind, target_id);
