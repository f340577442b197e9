-- Refresh tokens, stored only as the hex SHA-256 of the secret. Rotation sets
-- rotated_at on the old token and inserts its child (parent_hash); a rotated
-- token presented after REFRESH_REUSE_GRACE revokes the session.

-- +goose Up
CREATE TABLE refresh_tokens (
    token_hash  text PRIMARY KEY,
    session_id  uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    parent_hash text,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    rotated_at  timestamptz
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);

-- +goose Down
DROP TABLE refresh_tokens;
