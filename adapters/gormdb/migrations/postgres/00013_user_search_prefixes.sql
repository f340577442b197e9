-- Typeahead without ranking every user whose name contains the query.
--
-- Typeahead ranks exact username > exact display name > prefix of the
-- username or display name > prefix of any word > substring, then shorter
-- names, then username. Through the trigram index alone, a three-letter
-- query read and ranked every live user containing it (755 of 10,000 for
-- "mar" in the benchmark data) to return ten.
--
-- user_search_prefixes holds, for every live user, each word of search_key
-- (split on spaces, three characters or more) under its first three
-- characters, with the ranking columns (length of search_key,
-- username_normalized, id) and whether it is the first word of the
-- username or of the display name. Read in index order, the prefix tiers
-- of a query of one word give their first rows in result order; only a
-- short page is read. The exact tiers are lookups of search_username and
-- search_display_name; the substring tier still goes through the trigram
-- index, and only when the other tiers leave room. A trigger keeps the
-- rows in step with users; a deleted user has none.

-- +goose Up
CREATE TABLE user_search_prefixes (
    prefix  text NOT NULL,
    first   boolean NOT NULL,
    len     integer NOT NULL,
    uname   text,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    word    text NOT NULL
);
CREATE INDEX user_search_prefixes_first_idx ON user_search_prefixes (prefix, first, len, uname, user_id) INCLUDE (word);
CREATE INDEX user_search_prefixes_any_idx ON user_search_prefixes (prefix, len, uname, user_id) INCLUDE (word);
CREATE INDEX user_search_prefixes_user_idx ON user_search_prefixes (user_id);
CREATE INDEX users_search_username_idx ON users (search_username);
CREATE INDEX users_search_display_name_idx ON users (search_display_name);

-- The rows of one user: every word of the key, first = it starts the key
-- (the username's first word) or the display name.
-- +goose StatementBegin
CREATE FUNCTION lt_user_search_prefixes(id uuid, key text, display text, uname text)
    RETURNS TABLE (prefix text, first boolean, len integer, uname text, user_id uuid, word text)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT left(w.word, 3), bool_or(w.first), length(key), uname, id, w.word
    FROM (
        SELECT k.word, k.n = 1 AS first FROM string_to_table(key, ' ') WITH ORDINALITY AS k (word, n)
        UNION ALL
        SELECT d.word, true FROM string_to_table(display, ' ') WITH ORDINALITY AS d (word, n) WHERE d.n = 1
    ) w
    WHERE length(w.word) >= 3
    GROUP BY w.word
    $$;
-- +goose StatementEnd

INSERT INTO user_search_prefixes
SELECT p.* FROM users u, lt_user_search_prefixes(u.id, u.search_key, u.search_display_name, u.username_normalized) p
WHERE u.deleted_at IS NULL;

-- +goose StatementBegin
CREATE FUNCTION lt_user_search_prefixes_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        DELETE FROM user_search_prefixes WHERE user_id = OLD.id;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.deleted_at IS NULL THEN
        INSERT INTO user_search_prefixes
        SELECT * FROM lt_user_search_prefixes(NEW.id, NEW.search_key, NEW.search_display_name, NEW.username_normalized);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER users_search_prefixes_insert AFTER INSERT ON users
    FOR EACH ROW WHEN (NEW.deleted_at IS NULL) EXECUTE FUNCTION lt_user_search_prefixes_sync();
-- Sign-ins and profile edits update users often: only a change of what
-- the rows hold touches them.
CREATE TRIGGER users_search_prefixes_update AFTER UPDATE ON users
    FOR EACH ROW WHEN (OLD.search_key IS DISTINCT FROM NEW.search_key
        OR OLD.search_display_name IS DISTINCT FROM NEW.search_display_name
        OR OLD.username_normalized IS DISTINCT FROM NEW.username_normalized
        OR (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL)
        OR OLD.id <> NEW.id)
    EXECUTE FUNCTION lt_user_search_prefixes_sync();

-- +goose Down
DROP TRIGGER users_search_prefixes_update ON users;
DROP TRIGGER users_search_prefixes_insert ON users;
DROP FUNCTION lt_user_search_prefixes_sync();
DROP TABLE user_search_prefixes;
DROP FUNCTION lt_user_search_prefixes(uuid, text, text, text);
DROP INDEX users_search_display_name_idx;
DROP INDEX users_search_username_idx;
