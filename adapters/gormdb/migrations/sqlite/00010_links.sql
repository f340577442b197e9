-- Links (one row per canonical URL) and saves (one row per user who saves
-- a link). url_hash, the SHA-256 of the canonical URL, is the unique key the
-- database de-duplicates on (INSERT ... ON CONFLICT). saves_count is kept by
-- the adapter in the same transaction as the save, so "popular" is an index
-- scan of links_popular_idx. seq is an explicit INTEGER PRIMARY KEY (a
-- rowid that VACUUM never renumbers) for the full-text index of 00011.
-- Times are stored as fixed-width UTC text so they sort as they compare.

-- +goose Up
CREATE TABLE links (
    seq          INTEGER NOT NULL PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    url          TEXT NOT NULL CHECK (length(url) <= 2048),
    url_hash     BLOB NOT NULL UNIQUE CHECK (length(url_hash) = 32),
    domain       TEXT NOT NULL,
    title        TEXT NOT NULL DEFAULT '',
    submitted_by TEXT NOT NULL REFERENCES users (id),
    submitted_at TIMESTAMP NOT NULL,
    saves_count  INTEGER NOT NULL DEFAULT 0 CHECK (saves_count >= 0)
);
CREATE INDEX links_new_idx ON links (submitted_at DESC, id DESC);
CREATE INDEX links_popular_idx ON links (saves_count DESC, id DESC);
CREATE INDEX links_submitted_by_idx ON links (submitted_by);

CREATE TABLE saves (
    link_id       TEXT NOT NULL REFERENCES links (id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    submitted_url TEXT NOT NULL,
    saved_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (link_id, user_id)
);
CREATE INDEX saves_user_idx ON saves (user_id, saved_at DESC, link_id DESC);

-- +goose Down
DROP TABLE saves;
DROP TABLE links;
