-- One row per sign-in. revoked_at is the durable revocation (logout,
-- logout-all, password change or reset, refresh-token reuse, disabled or
-- deleted user); the revocation cache in Redis only mirrors it.
-- expires_at slides forward with each refresh.

-- +goose Up
CREATE TABLE sessions (
    id            uuid PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_agent    text NOT NULL DEFAULT '',
    ip            text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL,
    last_used_at  timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz,
    revoke_reason text
);
CREATE INDEX sessions_user_live_idx ON sessions (user_id, created_at DESC) WHERE revoked_at IS NULL;

-- +goose Down
DROP TABLE sessions;
