// Package site replicates a wing's events to every wing of its site over
// hashicorp/raft, and holds what the site agrees on: which wings exist,
// the officer roster and a site-wide lockdown.
//
// Recording is local first: an event is durable in the wing's own store
// before raft sees it, and nothing on the recording path waits for the
// network. The raft leader pulls each wing's events after the wing's
// committed seq (its outbox) and commits them in batches of one wing; every
// wing's FSM ingests committed batches into its store, idempotently by
// (wing, seq). A wing cut off from the site keeps recording; its events
// wait in its store until a leader can pull them again. See
// ../DESIGN.md for the reasoning.
package site
