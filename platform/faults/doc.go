// Package faults holds the failure tests of docs/capacity.md ("Failure
// behaviour"): the built binary runs against a PostgreSQL cluster and a
// redis-server that each test starts for itself on free ports (never the
// shared servers), and the tests restart the database, stop Redis, send
// SIGTERM under load and SIGKILL a worker mid-job while traffic runs.
//
// They need initdb/pg_ctl (/usr/lib/postgresql/*/bin) and redis-server;
// without them they skip loudly, and fail under CI=true.
package faults
