-- Full-text search over links and typeahead over users, with FTS5.
--
-- links_fts indexes links.title, domain and url (external content: the
-- text stays in links, rowid = links.seq) with the Porter stemmer over
-- unicode61 with diacritics removed; triggers keep it in sync.
--
-- Users typeahead: user_search holds the live users' username and display
-- name under a stable integer key, kept by triggers on users (a deleted
-- user leaves it). Two FTS5 indexes read it: user_search_words (unicode61,
-- diacritics removed, prefix indexes) for word prefixes, and
-- user_search_tri (trigram, diacritics removed) for substrings.

-- +goose Up
CREATE VIRTUAL TABLE links_fts USING fts5(
    title, domain, url,
    content='links', content_rowid='seq',
    tokenize='porter unicode61 remove_diacritics 2'
);
INSERT INTO links_fts (rowid, title, domain, url) SELECT seq, title, domain, url FROM links;

-- +goose StatementBegin
CREATE TRIGGER links_fts_insert AFTER INSERT ON links BEGIN
    INSERT INTO links_fts (rowid, title, domain, url) VALUES (new.seq, new.title, new.domain, new.url);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER links_fts_delete AFTER DELETE ON links BEGIN
    INSERT INTO links_fts (links_fts, rowid, title, domain, url) VALUES ('delete', old.seq, old.title, old.domain, old.url);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER links_fts_update AFTER UPDATE OF title, domain, url ON links BEGIN
    INSERT INTO links_fts (links_fts, rowid, title, domain, url) VALUES ('delete', old.seq, old.title, old.domain, old.url);
    INSERT INTO links_fts (rowid, title, domain, url) VALUES (new.seq, new.title, new.domain, new.url);
END;
-- +goose StatementEnd

CREATE TABLE user_search (
    seq          INTEGER NOT NULL PRIMARY KEY,
    user_id      TEXT NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    username     TEXT NOT NULL,
    display_name TEXT NOT NULL
);
CREATE VIRTUAL TABLE user_search_words USING fts5(
    username, display_name,
    content='user_search', content_rowid='seq',
    tokenize='unicode61 remove_diacritics 2', prefix='1 2 3'
);
CREATE VIRTUAL TABLE user_search_tri USING fts5(
    username, display_name,
    content='user_search', content_rowid='seq',
    tokenize='trigram remove_diacritics 1'
);

-- +goose StatementBegin
CREATE TRIGGER user_search_ai AFTER INSERT ON user_search BEGIN
    INSERT INTO user_search_words (rowid, username, display_name) VALUES (new.seq, new.username, new.display_name);
    INSERT INTO user_search_tri (rowid, username, display_name) VALUES (new.seq, new.username, new.display_name);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER user_search_ad AFTER DELETE ON user_search BEGIN
    INSERT INTO user_search_words (user_search_words, rowid, username, display_name) VALUES ('delete', old.seq, old.username, old.display_name);
    INSERT INTO user_search_tri (user_search_tri, rowid, username, display_name) VALUES ('delete', old.seq, old.username, old.display_name);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER user_search_au AFTER UPDATE ON user_search BEGIN
    INSERT INTO user_search_words (user_search_words, rowid, username, display_name) VALUES ('delete', old.seq, old.username, old.display_name);
    INSERT INTO user_search_tri (user_search_tri, rowid, username, display_name) VALUES ('delete', old.seq, old.username, old.display_name);
    INSERT INTO user_search_words (rowid, username, display_name) VALUES (new.seq, new.username, new.display_name);
    INSERT INTO user_search_tri (rowid, username, display_name) VALUES (new.seq, new.username, new.display_name);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER users_search_insert AFTER INSERT ON users WHEN new.deleted_at IS NULL BEGIN
    INSERT INTO user_search (user_id, username, display_name)
    VALUES (new.id, coalesce(new.username, ''), coalesce(new.display_name, ''));
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER users_search_update AFTER UPDATE OF username, display_name, deleted_at ON users BEGIN
    DELETE FROM user_search WHERE user_id = old.id;
    INSERT INTO user_search (user_id, username, display_name)
    SELECT new.id, coalesce(new.username, ''), coalesce(new.display_name, '') WHERE new.deleted_at IS NULL;
END;
-- +goose StatementEnd

INSERT INTO user_search (user_id, username, display_name)
SELECT id, coalesce(username, ''), coalesce(display_name, '') FROM users WHERE deleted_at IS NULL;

-- +goose Down
DROP TRIGGER users_search_update;
DROP TRIGGER users_search_insert;
DROP TABLE user_search_tri;
DROP TABLE user_search_words;
DROP TABLE user_search;
DROP TRIGGER links_fts_update;
DROP TRIGGER links_fts_delete;
DROP TRIGGER links_fts_insert;
DROP TABLE links_fts;
