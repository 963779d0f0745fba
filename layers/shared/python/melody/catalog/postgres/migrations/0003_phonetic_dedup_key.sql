-- De-duplication of provider hits: songs.dedup_key becomes the phonetic title key
-- (melody.catalog.keys.dedup_key; no artist, no duration bucket: artists and durations are compared
-- per candidate, durations within a tolerance). Keys are computed in Python, so this migration has
-- no SQL of its own: its post-step (migrations.POST_STEPS[3]: CatalogRepository.recompute_dedup_keys)
-- rewrites every song's key in the migration's transaction. No DDL here on purpose: an ALTER TABLE
-- would hold an ACCESS EXCLUSIVE lock on songs (no reads) for the whole backfill; row updates keep
-- the catalog readable (MVCC) while it runs.
SELECT 1;
