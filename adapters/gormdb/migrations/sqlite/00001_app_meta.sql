-- Key/value facts about this installation (schema notes, instance settings).

-- +goose Up
CREATE TABLE app_meta (
    key        TEXT NOT NULL PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- +goose Down
DROP TABLE app_meta;
