-- Search recall with a language filter: read a token's most popular postings of one language straight
-- off an index (early stop, index-only) instead of filtering song_search_tokens_popular row by row.
-- Key semantics are unchanged (no data rewrite); plain btree, no contrib extension.
CREATE INDEX IF NOT EXISTS song_search_tokens_lang_popular
    ON song_search_tokens (token, language, popularity DESC, track_id);
