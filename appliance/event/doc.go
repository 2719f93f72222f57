// Package event defines what the appliance records: an Event identified by
// (wing, seq), stamped with a hybrid logical clock and the wall time, and
// sealed into a per-wing hash chain over a canonical, versioned encoding.
//
// Readers ask for events with a Query and get Records (an event with its
// position in one store) a Page at a time; those types live here, not in
// the store, so that readers need not link it.
//
// Events are immutable once sealed. Every wing of a site holds every wing's
// events, so nothing here may depend on arrival order: ordering between
// events is given by Key (HLC, then wing, then seq), which is total and the
// same on every wing.
//
// # Canonical encoding, version 1
//
// The bytes that are hashed and stored are, in order:
//
//	byte     version (1)
//	string   wing
//	uvarint  seq
//	varint   HLC wall nanoseconds, uvarint HLC logical counter
//	varint   wall time, Unix nanoseconds
//	byte     flags (bit 0: the wall clock was trusted)
//	string   kind, string subject, string actor
//	uvarint  number of data fields, then for each in key order: string key, string value
//	32 bytes hash of the previous event of the same wing (zero for seq 1)
//
// where a string is a uvarint length followed by its UTF-8 bytes. The
// event's hash is SHA-256 over exactly these bytes. A stored event is the
// encoding followed by its 32-byte hash.
package event
