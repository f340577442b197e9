-- The admin list pages live accounts newest first (keyset on the UUIDv7 id),
-- optionally by role; counting active admins (last_admin) reads few rows.

-- +goose Up
CREATE INDEX users_live_role_id_idx ON users (role, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX users_active_admins_idx ON users (id) WHERE role = 'admin' AND is_active AND deleted_at IS NULL;

-- +goose Down
DROP INDEX users_active_admins_idx;
DROP INDEX users_live_role_id_idx;
