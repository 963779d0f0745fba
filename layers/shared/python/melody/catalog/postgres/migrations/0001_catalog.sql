-- The relational song catalogue and its search keys.
-- Search keys are computed in Python (melody.catalog.keys) when a song is written, so search runs
-- the same on Aurora and on an embedded PostgreSQL without contrib extensions (no pg_trgm needed).
-- Token columns use the "C" collation: a btree then serves both equality and LIKE/range prefixes.

CREATE TABLE IF NOT EXISTS albums (
    album_id   text PRIMARY KEY,
    title      text NOT NULL,
    kind       text NOT NULL DEFAULT 'album' CHECK (kind IN ('album', 'film', 'single')),
    year       integer,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS artists (
    artist_id  text PRIMARY KEY,
    name       text NOT NULL,
    name_latin text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS songs (
    track_id     text PRIMARY KEY,
    title        text NOT NULL,
    title_latin  text,
    title_native text,
    language     text,
    album_id     text REFERENCES albums (album_id),
    year         integer,
    duration_s   integer,
    popularity   integer NOT NULL DEFAULT 0,
    genres       jsonb NOT NULL DEFAULT '[]'::jsonb,
    isrc         text,
    dedup_key    text NOT NULL,
    search_doc   jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS songs_language_popularity ON songs (language, popularity DESC);
CREATE INDEX IF NOT EXISTS songs_isrc ON songs (isrc) WHERE isrc IS NOT NULL;
CREATE INDEX IF NOT EXISTS songs_dedup_key ON songs (dedup_key);

CREATE TABLE IF NOT EXISTS song_artists (
    track_id  text NOT NULL REFERENCES songs (track_id) ON DELETE CASCADE,
    artist_id text NOT NULL REFERENCES artists (artist_id),
    position  integer NOT NULL,
    PRIMARY KEY (track_id, artist_id)
);
CREATE INDEX IF NOT EXISTS song_artists_artist ON song_artists (artist_id);

CREATE TABLE IF NOT EXISTS external_ids (
    provider    text NOT NULL,
    external_id text NOT NULL,
    track_id    text NOT NULL REFERENCES songs (track_id) ON DELETE CASCADE,
    url         text,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, external_id)
);
CREATE INDEX IF NOT EXISTS external_ids_track ON external_ids (track_id);

CREATE TABLE IF NOT EXISTS audio_assets (
    track_id    text NOT NULL REFERENCES songs (track_id) ON DELETE CASCADE,
    kind        text NOT NULL DEFAULT 'original',
    storage_key text NOT NULL,
    format      text,
    duration_s  integer,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (track_id, kind)
);

CREATE TABLE IF NOT EXISTS play_counts_daily (
    track_id text NOT NULL REFERENCES songs (track_id) ON DELETE CASCADE,
    day      date NOT NULL,
    plays    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (day, track_id)
);

-- Search: one posting per (phonetic token, song, field), the token vocabulary and its trigrams
-- (fuzzy matching happens on the small vocabulary, never on every song).
-- popularity and language are copied into the postings so recall reads the most popular postings
-- of a token straight off one index and stops early.
CREATE TABLE IF NOT EXISTS song_search_tokens (
    token      text COLLATE "C" NOT NULL,
    track_id   text NOT NULL REFERENCES songs (track_id) ON DELETE CASCADE,
    field      text NOT NULL,
    popularity integer NOT NULL DEFAULT 0,
    language   text,
    PRIMARY KEY (token, track_id, field)
);
CREATE INDEX IF NOT EXISTS song_search_tokens_track ON song_search_tokens (track_id);
CREATE INDEX IF NOT EXISTS song_search_tokens_popular ON song_search_tokens (token, popularity DESC, track_id);

-- weight: the highest popularity of a song holding the token (prefix expansion prefers popular tokens)
CREATE TABLE IF NOT EXISTS search_vocab (
    token  text COLLATE "C" PRIMARY KEY,
    weight integer NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS search_vocab_grams (
    gram  text COLLATE "C" NOT NULL,
    token text COLLATE "C" NOT NULL,
    PRIMARY KEY (gram, token)
);
