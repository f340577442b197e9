-- PostgreSQL's stored snippets of link_terms have no counterpart here
-- (SQLite has no link_terms). This file keeps the versions of both
-- dialects the same.

-- +goose Up

-- +goose Down
