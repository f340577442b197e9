-- One row per email the send_email job delivered, so a job that runs again
-- (a retry after the send, a rescued job) does not send twice. key_hash is
-- the SHA-256 of the email's idempotency key (never the address itself), so
-- a batch re-run stays a no-op after River has cleaned its finished jobs.

-- +goose Up
CREATE TABLE sent_emails (
    job_id   INTEGER NOT NULL PRIMARY KEY,
    key_hash TEXT,
    sent_at  TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX sent_emails_key_hash_idx ON sent_emails (key_hash) WHERE key_hash IS NOT NULL;

-- +goose Down
DROP TABLE sent_emails;
