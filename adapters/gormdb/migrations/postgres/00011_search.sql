-- Full-text search over links and typeahead over users.
--
-- lt_english is the english text search configuration with unaccent in
-- front of the stemmer for words with non-ASCII letters, so "cafe" finds
-- "Café". links.search_vector is generated from the title (weight A), the
-- domain (B) and the words of the URL (C, punctuation turned into spaces so
-- that "/tuning-postgres" gives "tune" and "postgr") with it, and indexed
-- with GIN. Queries use plainto_tsquery, ts_rank_cd and ts_headline.
--
-- Users typeahead: users.search_key is the lower-cased, unaccented username
-- (underscores as spaces) and display name, stored (generated) so ranking
-- reads it instead of recomputing it per row; a GIN trigram index over it
-- serves substring LIKE and one-typo word similarity (<%) matches (not
-- partial: the planner did not use a trigram index restricted to live
-- users; a deleted user's key is erased to a blank anyway). search_username and search_display_name are the folded fields
-- for the exact-match tiers. unaccent is STABLE, so an IMMUTABLE wrapper
-- with an explicit dictionary is what the generated columns call.

-- +goose Up
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;

CREATE TEXT SEARCH CONFIGURATION lt_english (COPY = english);
ALTER TEXT SEARCH CONFIGURATION lt_english
    ALTER MAPPING FOR word, hword, hword_part WITH unaccent, english_stem;

ALTER TABLE links ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('lt_english'::regconfig, title), 'A') ||
    setweight(to_tsvector('lt_english'::regconfig, domain), 'B') ||
    setweight(to_tsvector('lt_english'::regconfig, regexp_replace(url, '[^[:alnum:]]+', ' ', 'g')), 'C')
) STORED;
CREATE INDEX links_search_idx ON links USING gin (search_vector);

-- +goose StatementBegin
CREATE FUNCTION lt_unaccent(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT unaccent('unaccent'::regdictionary, $1) $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION lt_user_search_key(username text, display_name text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT lower(lt_unaccent(translate(coalesce(username, ''), '_', ' ') || ' ' || coalesce(display_name, ''))) $$;
-- +goose StatementEnd

ALTER TABLE users
    ADD COLUMN search_key text GENERATED ALWAYS AS (lt_user_search_key(username, display_name)) STORED,
    ADD COLUMN search_username text GENERATED ALWAYS AS (lower(lt_unaccent(coalesce(username, '')))) STORED,
    ADD COLUMN search_display_name text GENERATED ALWAYS AS (lower(lt_unaccent(display_name))) STORED;
CREATE INDEX users_search_trgm_idx ON users USING gin (search_key gin_trgm_ops);

-- +goose Down
DROP INDEX users_search_trgm_idx;
ALTER TABLE users DROP COLUMN search_key, DROP COLUMN search_username, DROP COLUMN search_display_name;
DROP FUNCTION lt_user_search_key(text, text);
DROP FUNCTION lt_unaccent(text);
DROP INDEX links_search_idx;
ALTER TABLE links DROP COLUMN search_vector;
DROP TEXT SEARCH CONFIGURATION lt_english;
