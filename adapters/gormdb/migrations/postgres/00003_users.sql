-- Accounts. email is kept as entered for display and sending; every lookup
-- and the uniqueness rule use email_normalized (NFC, lower-case local part,
-- IDNA ASCII lower-case domain: users.ParseEmail). username is optional and
-- unique case-insensitively through username_normalized. Deleting an account
-- erases its personal data, replaces the email with a placeholder under
-- .invalid and nulls the username, so both are free again; the row stays for
-- the links that reference it.

-- +goose Up
CREATE TABLE users (
    id                  uuid PRIMARY KEY,
    email               text NOT NULL,
    email_normalized    text NOT NULL,
    username            text,
    username_normalized text,
    display_name        text NOT NULL DEFAULT '',
    avatar_url          text NOT NULL DEFAULT '',
    bio                 text NOT NULL DEFAULT '',
    role                text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'moderator', 'admin')),
    is_active           boolean NOT NULL DEFAULT true,
    email_verified_at   timestamptz,
    last_login_at       timestamptz,
    password_hash       text NOT NULL DEFAULT '',
    password_changed_at timestamptz,
    metadata            jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    deleted_at          timestamptz,
    CHECK ((username IS NULL) = (username_normalized IS NULL))
);
CREATE UNIQUE INDEX users_email_normalized_key ON users (email_normalized);
CREATE UNIQUE INDEX users_username_normalized_key ON users (username_normalized);

-- +goose Down
DROP TABLE users;
