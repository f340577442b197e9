-- Reserved for the accounts module (versions 00003-00009 are its range), so
-- that versions stay consecutive when later ranges are added. Intentionally
-- empty.

-- +goose Up

-- +goose Down
