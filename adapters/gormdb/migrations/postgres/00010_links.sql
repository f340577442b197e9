-- Links (one row per canonical URL) and saves (one row per user who saves
-- a link). url_hash, the SHA-256 of the canonical URL, is the unique key the
-- database de-duplicates on (INSERT ... ON CONFLICT). saves_count is kept by
-- the adapter in the same transaction as the save, so "popular" is an index
-- scan of links_popular_idx.

-- +goose Up
CREATE TABLE links (
    id           uuid PRIMARY KEY,
    url          text NOT NULL CHECK (char_length(url) <= 2048),
    url_hash     bytea NOT NULL CHECK (octet_length(url_hash) = 32),
    domain       text NOT NULL,
    title        text NOT NULL DEFAULT '',
    submitted_by uuid NOT NULL REFERENCES users (id),
    submitted_at timestamptz NOT NULL,
    saves_count  integer NOT NULL DEFAULT 0 CHECK (saves_count >= 0),
    CONSTRAINT links_url_hash_key UNIQUE (url_hash)
);
CREATE INDEX links_new_idx ON links (submitted_at DESC, id DESC);
CREATE INDEX links_popular_idx ON links (saves_count DESC, id DESC);
CREATE INDEX links_submitted_by_idx ON links (submitted_by);

CREATE TABLE saves (
    link_id       uuid NOT NULL REFERENCES links (id) ON DELETE CASCADE,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    submitted_url text NOT NULL,
    saved_at      timestamptz NOT NULL,
    PRIMARY KEY (link_id, user_id)
);
CREATE INDEX saves_user_idx ON saves (user_id, saved_at DESC, link_id DESC);

-- +goose Down
DROP TABLE saves;
DROP TABLE links;
