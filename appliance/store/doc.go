// Package store keeps the wing's events in one bbolt file: durable before
// anything else sees them, readable by id, by time, by subject and in the
// order they arrived.
//
// It is the only package that imports bbolt. Bucket names and the schema
// version live in schema.go.
//
// # Group commit
//
// Every append goes through one writer goroutine. While one transaction is
// being written and fsync'd, new appends queue; the writer then takes all
// that queued (up to Options.MaxBatch) into the next transaction. One fsync
// thus covers as many events as arrived during the previous one, so
// throughput grows with load while a lone append still waits for only one
// fsync. Append returns only after its transaction is on disk.
//
// # Caveats
//
// A Store holds an exclusive lock on its file: a second process opening the
// same file gets ErrLocked. Positions (event.Record.Pos) are local to one
// file; events are identified across the site by (wing, seq).
package store
