-- Accounts: see postgres/00003_users.sql. metadata is a JSON object in TEXT.

-- +goose Up
CREATE TABLE users (
    id                  TEXT NOT NULL PRIMARY KEY,
    email               TEXT NOT NULL,
    email_normalized    TEXT NOT NULL,
    username            TEXT,
    username_normalized TEXT,
    display_name        TEXT NOT NULL DEFAULT '',
    avatar_url          TEXT NOT NULL DEFAULT '',
    bio                 TEXT NOT NULL DEFAULT '',
    role                TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'moderator', 'admin')),
    is_active           INTEGER NOT NULL DEFAULT 1,
    email_verified_at   TIMESTAMP,
    last_login_at       TIMESTAMP,
    password_hash       TEXT NOT NULL DEFAULT '',
    password_changed_at TIMESTAMP,
    metadata            TEXT NOT NULL DEFAULT '{}',
    created_at          TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at          TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    deleted_at          TIMESTAMP,
    CHECK ((username IS NULL) = (username_normalized IS NULL))
);
CREATE UNIQUE INDEX users_email_normalized_key ON users (email_normalized);
CREATE UNIQUE INDEX users_username_normalized_key ON users (username_normalized);

-- +goose Down
DROP TABLE users;
