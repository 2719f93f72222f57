package recording

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"time"

	"wingnode/appliance/event"
)

// The spool keeps held events on disk, so that a restart while the store
// refuses them loses none. It is a file reserved at start (written with
// zeros, so a full disk still has room for it):
//
//	header    spoolHeader bytes: magic, then the count of records already
//	          stored (uint64, little endian)
//	records   from spoolHeader on, each [len uint32][crc32 uint32][JSON],
//	          the first zero len ending them
//
// A held event is written as it is held, and synced within a second (a
// crash of the process loses none: they are in the kernel's cache). Once
// stored, the header counts it, synced; once every held event is stored,
// the first record is zeroed and the count reset. A crash between a store
// and the header's update would store that event twice: at start, an event
// already in the store (the wing's newest event, with the same kind,
// subject and observation time) is counted as stored instead.

// DefaultSpoolSize is the room reserved for held events on disk: about
// 25,000 of them. Events held past it are held in memory only.
const DefaultSpoolSize = 4 << 20

const (
	spoolHeader = 4096
	spoolMagic  = "WNHELD1\n"
)

// spooled is a held event as the spool keeps it.
type spooled struct {
	N       uint64            `json:"n"`
	At      time.Time         `json:"at"`
	Kind    event.Kind        `json:"kind"`
	Subject string            `json:"subject"`
	Actor   string            `json:"actor"`
	Data    map[string]string `json:"data,omitempty"`
}

// spool is the held events' file.
type spool struct {
	f      *os.File
	size   int64
	off    int64  // where the next record goes
	stored uint64 // records already stored, as the header says
	full   bool   // a record did not fit; later ones are in memory only
}

// openSpool opens (or makes and reserves) the spool at path and returns
// the held events it holds that are not stored yet, oldest first.
func openSpool(path string, size int64) (*spool, []heldDraft, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("recording: held-event spool: %w", err)
	}
	s := &spool{f: f, size: size, off: spoolHeader}
	held, err := s.read()
	if err == nil {
		err = s.reserve()
	}
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("recording: held-event spool %s: %w", path, err)
	}
	return s, held, nil
}

// read reads the header and the records not yet stored; a file without
// the magic is an empty spool.
func (s *spool) read() ([]heldDraft, error) {
	head := make([]byte, 16)
	if _, err := s.f.ReadAt(head, 0); err != nil || string(head[:8]) != spoolMagic {
		return nil, nil
	}
	s.stored = binary.LittleEndian.Uint64(head[8:])
	var held []heldDraft
	for i := uint64(0); ; i++ {
		var rec [8]byte
		if _, err := s.f.ReadAt(rec[:], s.off); err != nil {
			break
		}
		n := binary.LittleEndian.Uint32(rec[:4])
		if n == 0 || s.off+8+int64(n) > s.size {
			break
		}
		b := make([]byte, n)
		if _, err := s.f.ReadAt(b, s.off+8); err != nil || crc32.ChecksumIEEE(b) != binary.LittleEndian.Uint32(rec[4:]) {
			break // torn by a crash: what came before is whole
		}
		var sp spooled
		if err := json.Unmarshal(b, &sp); err != nil {
			break
		}
		s.off += 8 + int64(n)
		if i >= s.stored {
			held = append(held, heldDraft{n: sp.N, at: sp.At, draft: event.Draft{Kind: sp.Kind, Subject: sp.Subject, Actor: sp.Actor, Data: sp.Data}})
		}
	}
	return held, nil
}

// reserve writes zeros up to the spool's size, so its room is the file's
// own, and the magic.
func (s *spool) reserve() error {
	fi, err := s.f.Stat()
	if err != nil {
		return err
	}
	if have := fi.Size(); have < s.size {
		if _, err := s.f.WriteAt(make([]byte, s.size-have), have); err != nil {
			return fmt.Errorf("reserve %d bytes: %w", s.size, err)
		}
	}
	return s.writeHeader()
}

func (s *spool) writeHeader() error {
	head := make([]byte, 16)
	copy(head, spoolMagic)
	binary.LittleEndian.PutUint64(head[8:], s.stored)
	if _, err := s.f.WriteAt(head, 0); err != nil {
		return err
	}
	return s.f.Sync()
}

// hold writes h (the recorder syncs the spool each second); false when
// the spool has no room left for it.
func (s *spool) hold(h heldDraft) (bool, error) {
	if s.full {
		return false, nil
	}
	b, err := json.Marshal(spooled{N: h.n, At: h.at, Kind: h.draft.Kind, Subject: h.draft.Subject, Actor: h.draft.Actor, Data: h.draft.Data})
	if err != nil {
		return false, err
	}
	if s.off+8+int64(len(b))+8 > s.size { // and room for the zero that ends the records
		s.full = true
		return false, nil
	}
	rec := make([]byte, 8+len(b)+8)
	binary.LittleEndian.PutUint32(rec, uint32(len(b)))
	binary.LittleEndian.PutUint32(rec[4:], crc32.ChecksumIEEE(b))
	copy(rec[8:], b)
	if _, err := s.f.WriteAt(rec, s.off); err != nil {
		return false, err
	}
	s.off += 8 + int64(len(b))
	return true, nil
}

// markStored counts n more records stored; when none is left, the spool is
// emptied.
func (s *spool) markStored(n, left int) error {
	if left == 0 {
		return s.empty()
	}
	s.stored += uint64(n)
	return s.writeHeader()
}

// empty forgets every record.
func (s *spool) empty() error {
	if _, err := s.f.WriteAt(make([]byte, 8), spoolHeader); err != nil {
		return err
	}
	s.stored, s.off, s.full = 0, spoolHeader, false
	return s.writeHeader()
}

func (s *spool) close() error { return s.f.Close() }

// errFromBeforeRestart is the recording's fault while events held before
// a restart wait for the store.
var errFromBeforeRestart = errors.New("events held before the restart are not stored yet")
