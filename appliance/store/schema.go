package store

import (
	"encoding/binary"
)

// SchemaVersion is the layout of the file written by this build. A file
// with a higher version was written by a newer wingnode and is refused.
const SchemaVersion = 1

// Buckets. Positions are 8-byte big-endian counters from 1.
var (
	// metaBucket holds "schema" (uvarint) and "wing" (the local wing id).
	metaBucket = []byte("meta")
	// eventsBucket maps position → event.Marshal().
	eventsBucket = []byte("events")
	// idsBucket maps wing 0x00 seq(8) → position.
	idsBucket = []byte("ids")
	// timeBucket indexes by HLC wall time: sortable int64(8) position(8) → nothing.
	timeBucket = []byte("time")
	// subjectsBucket indexes by subject: subject 0x00 position(8) → nothing.
	subjectsBucket = []byte("subjects")
	// checkpointBucket maps a checkpoint name → position(8) data, and
	// "wing-state-sha256" → the SHA-256 of that value.
	checkpointBucket = []byte("checkpoint")

	// siteBucket holds the replicated state: "applied" (the raft index of
	// the newest applied entry, 8 bytes), "fsm" (the replication layer's
	// own state, opaque here) and "committed/" wing → seq(8), the newest
	// seq of each wing committed by the site.
	siteBucket = []byte("site")
	// commitsBucket records the site's commit order: raft index(8) n(4) → wing 0x00 seq(8).
	commitsBucket = []byte("commits")

	allBuckets = [][]byte{metaBucket, eventsBucket, idsBucket, timeBucket, subjectsBucket, checkpointBucket, siteBucket, commitsBucket}
)

var (
	schemaKey   = []byte("schema")
	wingKey     = []byte("wing")
	stateKey    = []byte("wing-state")
	stateSumKey = []byte("wing-state-sha256")

	appliedKey   = []byte("applied")
	fsmKey       = []byte("fsm")
	committedKey = []byte("committed/")
)

func commitKey(index uint64, n uint32) []byte {
	return binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint64(make([]byte, 0, 12), index), n)
}

func posKey(pos uint64) []byte { return binary.BigEndian.AppendUint64(nil, pos) }

func idKey(wing string, seq uint64) []byte {
	k := append([]byte(wing), 0)
	return binary.BigEndian.AppendUint64(k, seq)
}

// timeKey makes a signed nanosecond count sort as unsigned bytes.
func timeKey(wallNanos int64, pos uint64) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 16), uint64(wallNanos)^(1<<63))
	return binary.BigEndian.AppendUint64(k, pos)
}

func subjectKey(subject string, pos uint64) []byte {
	k := append([]byte(subject), 0)
	return binary.BigEndian.AppendUint64(k, pos)
}

// suffixPos returns the position stored in the last 8 bytes of an index key.
func suffixPos(k []byte) uint64 { return binary.BigEndian.Uint64(k[len(k)-8:]) }
