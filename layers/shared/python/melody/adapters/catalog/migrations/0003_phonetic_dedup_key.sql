-- De-duplication of provider hits: songs.dedup_key becomes the phonetic title key
-- (melody.catalog.keys.dedup_key; no artist, no duration bucket: artists and durations are compared
-- per candidate, durations within a tolerance). Keys are computed in Python, so this migration only
-- clears the old keys (title|artist|10-second bucket, which never equal a new key); its post-step
-- (migrations.POST_STEPS[3]: CatalogRepository.refresh_dedup_keys) recomputes them in the same
-- transaction, before the commit.
-- Plain btree indexes, no contrib extension.
ALTER TABLE songs ALTER COLUMN dedup_key DROP NOT NULL;
UPDATE songs SET dedup_key = NULL;
-- The rows still waiting for their key: finding them never scans the table.
CREATE INDEX IF NOT EXISTS songs_dedup_key_pending ON songs (track_id) WHERE dedup_key IS NULL;
