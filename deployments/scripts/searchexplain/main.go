// Command searchexplain prints the plans of the search statements
// (gormdb.ExplainSearch): on PostgreSQL EXPLAIN (ANALYZE, BUFFERS) of the
// adapter's own statements, prepared, in their generic plans; on SQLite
// EXPLAIN QUERY PLAN. Used by search-bench.sh.
//
//	go run ./deployments/scripts/searchexplain 'postgres://...'
//	go run ./deployments/scripts/searchexplain DATA_DIR
package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/lenticular/lenticular/adapters/gormdb"
	"github.com/lenticular/lenticular/platform/database"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: searchexplain POSTGRES_URL | SQLITE_DATA_DIR")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	opts := database.Options{DataDir: os.Args[1]}
	if strings.HasPrefix(os.Args[1], "postgres") {
		opts = database.Options{URL: os.Args[1]}
	}
	db, err := database.Open(ctx, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "searchexplain:", err)
		os.Exit(1)
	}
	defer db.Close()
	if err := gormdb.ExplainSearch(ctx, db, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "searchexplain:", err)
		os.Exit(1)
	}
}
