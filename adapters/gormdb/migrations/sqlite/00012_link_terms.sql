-- PostgreSQL's link_terms (impact-ordered postings for one-word link
-- searches) has no counterpart here; SQLite keeps ranking FTS5 matches
-- with bm25. This file keeps the versions of both dialects the same.

-- +goose Up

-- +goose Down
