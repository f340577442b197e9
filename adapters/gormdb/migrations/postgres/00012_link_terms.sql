-- Impact-ordered postings for one-word link searches.
--
-- A search ranks every link that matches (ts_rank_cd), then keeps the best
-- few. GIN finds the matches but cannot return them in rank order, so a
-- common word (one link in fifty holding it, or "https" in all of them)
-- meant reading and ranking thousands of rows for twenty results.
--
-- For a query of one lexeme, ts_rank_cd(search_vector, query) depends only
-- on that lexeme's positions and weights in the link, so it can be
-- computed when the link is written. link_terms holds one row per
-- (lexeme, link) with exactly that value, computed by the same function on
-- the same vector; its primary key read backwards is the result order
-- (rank DESC, link_id DESC), so a page is a short index-only scan and the
-- results are the ones ranking every match would give. Queries of several
-- lexemes still rank their (smaller) intersection from the GIN index.
--
-- Cost: about eleven rows per link (some 1.5 KB per link with the index),
-- written by triggers; existing links are indexed by this migration.
-- Rows are deleted by their full key, recomputing the rank from the old
-- vector, so removing a link touches only its own postings.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION lt_lexeme_query(lexeme text) RETURNS tsquery
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT ('''' || replace(replace(lexeme, '\', '\\'), '''', '''''') || '''')::tsquery $$;
-- +goose StatementEnd

-- The lexeme of a query that plainto_tsquery turns into exactly one
-- operand (stop words dropped), else NULL.
-- +goose StatementBegin
CREATE FUNCTION lt_single_lexeme(q text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT CASE WHEN numnode(plainto_tsquery('lt_english'::regconfig, q)) = 1
        THEN (tsvector_to_array(to_tsvector('lt_english'::regconfig, q)))[1] END $$;
-- +goose StatementEnd

CREATE TABLE link_terms (
    lexeme  text NOT NULL,
    rank    real NOT NULL,
    link_id uuid NOT NULL,
    PRIMARY KEY (lexeme, rank, link_id)
);

INSERT INTO link_terms (lexeme, rank, link_id)
SELECT t.lexeme, ts_rank_cd(l.search_vector, lt_lexeme_query(t.lexeme)), l.id
FROM links l, unnest(l.search_vector) t;

-- Inserts come in batches (seeding), so once per statement.
-- +goose StatementBegin
CREATE FUNCTION lt_link_terms_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO link_terms (lexeme, rank, link_id)
    SELECT t.lexeme, ts_rank_cd(n.search_vector, lt_lexeme_query(t.lexeme)), n.id
    FROM inserted_links n, unnest(n.search_vector) t;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER links_terms_insert AFTER INSERT ON links
    REFERENCING NEW TABLE AS inserted_links
    FOR EACH STATEMENT EXECUTE FUNCTION lt_link_terms_insert();

-- +goose StatementBegin
CREATE FUNCTION lt_link_terms_change() RETURNS trigger LANGUAGE plpgsql AS $$
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
-- Every save updates its link (saves_count, and title when it was empty):
-- only a change of the vector touches the postings.
CREATE TRIGGER links_terms_update AFTER UPDATE ON links
    FOR EACH ROW WHEN (OLD.search_vector IS DISTINCT FROM NEW.search_vector OR OLD.id <> NEW.id)
    EXECUTE FUNCTION lt_link_terms_change();
CREATE TRIGGER links_terms_delete AFTER DELETE ON links
    FOR EACH ROW EXECUTE FUNCTION lt_link_terms_change();

-- +goose Down
DROP TRIGGER links_terms_delete ON links;
DROP TRIGGER links_terms_update ON links;
DROP TRIGGER links_terms_insert ON links;
DROP FUNCTION lt_link_terms_change();
DROP FUNCTION lt_link_terms_insert();
DROP TABLE link_terms;
DROP FUNCTION lt_single_lexeme(text);
DROP FUNCTION lt_lexeme_query(text);
