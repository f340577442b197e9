// Package gormdb implements the modules' storage ports with GORM on
// PostgreSQL and SQLite, and owns the schema: versioned goose migrations per
// dialect, embedded in the binary (see migrations/README.md).
package gormdb
