-- PostgreSQL's user_search_prefixes (word prefixes in typeahead order) has
-- no counterpart here; SQLite ranks the FTS5 candidates in Go. This file
-- keeps the versions of both dialects the same.

-- +goose Up

-- +goose Down
