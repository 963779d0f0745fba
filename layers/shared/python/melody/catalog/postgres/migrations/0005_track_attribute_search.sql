-- Attribute and harmonic search over analysed catalog tracks (melody.catalog.postgres.attribute_search).
-- A Camelot code picks 1/24 of the analysed tracks and a tempo window a few percent of those: one
-- index range per (code, window). Songs are walked by popularity (then id, the keyset cursor), so an
-- unselective filter (a language, an energy floor) stops after a page instead of sorting every match.
CREATE INDEX IF NOT EXISTS track_attributes_camelot_bpm ON track_attributes (camelot, bpm);
CREATE INDEX IF NOT EXISTS track_attributes_bpm ON track_attributes (bpm);
CREATE INDEX IF NOT EXISTS songs_popularity_track ON songs (popularity DESC, track_id DESC);
