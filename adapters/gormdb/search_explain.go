package gormdb

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/lenticular/lenticular/platform/database"
)

// ExplainSearch writes the plans of the search statements for a few sample
// queries, from the adapter's own statement texts, so that the plans the
// search benchmark prints cannot drift from the code. On PostgreSQL it is
// EXPLAIN (ANALYZE, BUFFERS) of the statements prepared, in the generic
// plan PostgreSQL settles on for them as the server runs them; on SQLite,
// EXPLAIN QUERY PLAN.
func ExplainSearch(ctx context.Context, db *database.DB, w io.Writer) error {
	if db.Dialect == database.DialectSQLite {
		return explainSQLite(ctx, db, w)
	}
	conn, err := db.SQL.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SET plan_cache_mode = force_generic_plan`); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, `SET pg_trgm.word_similarity_threshold = `+typoThreshold); err != nil {
		return err
	}
	statements := []struct {
		name, query, about string
		samples            [][]any
	}{
		{"users_q", usersQueryPostgres,
			"typeahead: one word reads exact matches and a page of user_search_prefixes per tier; several words rank every trigram candidate",
			[][]any{{"mar", "mar", "mar", 10}, {"maria li", "maria li", "maria li", 10}}},
		{"typos_q", typosQueryPostgres, "one-typo matches, when fewer than the limit matched (text of four characters or more)",
			[][]any{{"martinex", "martinex", "martinex", 10}}},
		{"links_q", linksQueryPostgres,
			"link search: one lexeme reads a page of link_terms; several rank the GIN index's matches; the page's links and submitters are joined",
			[][]any{{"tuning", 21, 0, headlineOptions}, {"tuning postgresql", 21, 0, headlineOptions}}},
	}
	for _, st := range statements {
		if _, err := conn.ExecContext(ctx, `PREPARE `+st.name+` AS `+numberedParams(st.query)); err != nil {
			return fmt.Errorf("prepare %s: %w", st.name, err)
		}
		for _, args := range st.samples {
			execute := `EXECUTE ` + st.name + `(` + literals(args) + `)`
			// A first execution loads the text search dictionaries into
			// this new session, as the server's connections already have.
			if _, err := conn.ExecContext(ctx, execute); err != nil {
				return fmt.Errorf("%s: %w", execute, err)
			}
			shown := strings.NewReplacer("\x02", `\x02`, "\x03", `\x03`).Replace(execute)
			fmt.Fprintf(w, "-- %s\n-- %s\n", st.about, shown)
			if err := printPlan(ctx, conn, w, `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) `+execute); err != nil {
				return err
			}
		}
	}
	return nil
}

func explainSQLite(ctx context.Context, db *database.DB, w io.Writer) error {
	users, usersArgs := usersQuerySQLite("mar", 10)
	for _, st := range []struct {
		about, query string
		args         []any
	}{
		{"typeahead for 'mar': exact username (index), display names starting with it, word prefixes and trigram substrings (FTS5), ranked by lt_user_tier", users, usersArgs},
		{"link search for 'tuning' (FTS5, bm25; then the page's rows by rowid)", linksQuerySQLite, []any{FTSQuery("tuning", false), 21, 0, FTSQuery("tuning", false)}},
	} {
		fmt.Fprintf(w, "-- %s\n", st.about)
		rows, err := db.SQL.QueryContext(ctx, `EXPLAIN QUERY PLAN `+st.query, st.args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				rows.Close()
				return err
			}
			fmt.Fprintf(w, "%d %d %s\n", id, parent, detail)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	return nil
}

func printPlan(ctx context.Context, conn *sql.Conn, w io.Writer, query string) error {
	rows, err := conn.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return err
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintln(w)
	return rows.Err()
}

// numberedParams turns GORM's ? placeholders into $1, $2, ...; the search
// statements hold no ? anywhere else.
func numberedParams(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// literals writes sample arguments (the constants above) as SQL literals.
func literals(args []any) string {
	out := make([]string, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case string:
			out[i] = "'" + strings.ReplaceAll(v, "'", "''") + "'"
		default:
			out[i] = fmt.Sprint(v)
		}
	}
	return strings.Join(out, ", ")
}
