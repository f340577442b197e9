-- Stored snippets for one-word link searches.
--
-- ts_headline was the largest cost of a link search once link_terms made
-- ranking cheap (a quarter to a third of the requests a server could
-- answer). For a query of one lexeme the snippet of a link depends only on
-- that lexeme and the link's title, so it is computed when the link is
-- written, next to the rank, by the same function with the same options
-- as the query-time headline (lt_title_headline; the options must stay
-- those of headlineOptions in adapters/gormdb/search_links.go, which
-- TestLinkTermsMatchRankingEveryMatch checks for every stored row).
-- Queries of several lexemes still compute their snippets at query time.
--
-- Cost: the title's headline per (lexeme, link), 41 characters on average
-- in the seed data (45 MB more heap per 100,000 links), and a headline per
-- posting when a link is written or its title changes.
--
-- lt_single_lexeme (00012) is dropped: the search statement writes the
-- test out, since PostgreSQL cannot inline the function.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION lt_title_headline(title text, lexeme text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN title <> '' THEN ts_headline('lt_english'::regconfig, title, lt_lexeme_query(lexeme),
        'StartSel="' || chr(2) || '", StopSel="' || chr(3) || '", MaxWords=24, MinWords=8, MaxFragments=2, FragmentDelimiter=" … "') END $$;
-- +goose StatementEnd

ALTER TABLE link_terms ADD COLUMN snippet text;
UPDATE link_terms t SET snippet = lt_title_headline(l.title, t.lexeme) FROM links l WHERE l.id = t.link_id;

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION lt_link_terms_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO link_terms (lexeme, rank, link_id, snippet)
    SELECT t.lexeme, ts_rank_cd(n.search_vector, lt_lexeme_query(t.lexeme)), n.id, lt_title_headline(n.title, t.lexeme)
    FROM inserted_links n, unnest(n.search_vector) t;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION lt_link_terms_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM link_terms lt USING unnest(OLD.search_vector) t
    WHERE lt.lexeme = t.lexeme AND lt.rank = ts_rank_cd(OLD.search_vector, lt_lexeme_query(t.lexeme))
        AND lt.link_id = OLD.id;
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO link_terms (lexeme, rank, link_id, snippet)
        SELECT t.lexeme, ts_rank_cd(NEW.search_vector, lt_lexeme_query(t.lexeme)), NEW.id, lt_title_headline(NEW.title, t.lexeme)
        FROM unnest(NEW.search_vector) t;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

DROP FUNCTION lt_single_lexeme(text);

-- A title can change without changing the vector (only its case, say):
-- the stored snippets follow the title too.
DROP TRIGGER links_terms_update ON links;
CREATE TRIGGER links_terms_update AFTER UPDATE ON links
    FOR EACH ROW WHEN (OLD.search_vector IS DISTINCT FROM NEW.search_vector OR OLD.id <> NEW.id
        OR OLD.title IS DISTINCT FROM NEW.title)
    EXECUTE FUNCTION lt_link_terms_change();

-- +goose Down
DROP TRIGGER links_terms_update ON links;
CREATE TRIGGER links_terms_update AFTER UPDATE ON links
    FOR EACH ROW WHEN (OLD.search_vector IS DISTINCT FROM NEW.search_vector OR OLD.id <> NEW.id)
    EXECUTE FUNCTION lt_link_terms_change();
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION lt_link_terms_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM link_terms lt USING unnest(OLD.search_vector) t
    WHERE lt.lexeme = t.lexeme AND lt.rank = ts_rank_cd(OLD.search_vector, lt_lexeme_query(t.lexeme))
        AND lt.link_id = OLD.id;
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO link_terms (lexeme, rank, link_id)
        SELECT t.lexeme, ts_rank_cd(NEW.search_vector, lt_lexeme_query(t.lexeme)), NEW.id
        FROM unnest(NEW.search_vector) t;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION lt_link_terms_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO link_terms (lexeme, rank, link_id)
    SELECT t.lexeme, ts_rank_cd(n.search_vector, lt_lexeme_query(t.lexeme)), n.id
    FROM inserted_links n, unnest(n.search_vector) t;
    RETURN NULL;
END $$;
-- +goose StatementEnd
ALTER TABLE link_terms DROP COLUMN snippet;
DROP FUNCTION lt_title_headline(text, text);
-- +goose StatementBegin
CREATE FUNCTION lt_single_lexeme(q text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT CASE WHEN numnode(plainto_tsquery('lt_english'::regconfig, q)) = 1
        THEN (tsvector_to_array(to_tsvector('lt_english'::regconfig, q)))[1] END $$;
-- +goose StatementEnd
