-- Analysed attributes of a catalog track, written back by the audio pipeline's persist step when a
-- job converts the track's licensed audio (melody.catalog.attributes). A table of their own, one
-- row per analysed track: no ALTER TABLE songs (no lock that blocks the catalog's readers).
CREATE TABLE IF NOT EXISTS track_attributes (
    track_id      text PRIMARY KEY REFERENCES songs (track_id) ON DELETE CASCADE,
    bpm           real,
    musical_key   text,
    camelot       text,
    energy        real,
    loudness_lufs real,
    analysis_hash text,
    analysed_at   timestamptz NOT NULL DEFAULT now()
);
-- "ready to sing": tracks with an original under the catalog prefix, newest first
CREATE INDEX IF NOT EXISTS audio_assets_kind_created ON audio_assets (kind, created_at DESC);
