-- See postgres/00007_user_tokens.sql.

-- +goose Up
CREATE TABLE user_tokens (
    token_hash TEXT NOT NULL PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP
);
CREATE INDEX user_tokens_user_unused_idx ON user_tokens (user_id, purpose) WHERE used_at IS NULL;

-- +goose Down
DROP TABLE user_tokens;
