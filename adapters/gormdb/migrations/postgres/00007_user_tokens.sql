-- Emailed single-use tokens (email verification, password reset): 32 random
-- bytes sent in the link, only their hex SHA-256 stored; used_at is set when
-- one is consumed (or invalidated by a later password change).

-- +goose Up
CREATE TABLE user_tokens (
    token_hash text PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    text NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX user_tokens_user_unused_idx ON user_tokens (user_id, purpose) WHERE used_at IS NULL;

-- +goose Down
DROP TABLE user_tokens;
