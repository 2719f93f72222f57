package firmware

import (
	"fmt"
	"io"
	"slices"
)

// RootfsPayload is the payload Install writes into the inactive slot.
const RootfsPayload = "rootfs"

// Install reads a bundle from r, checks it against trust and the state's
// target for hardware, and streams its rootfs payload into dst, which must
// be the INACTIVE slot (Prepare names it). The active slot is never
// touched.
//
// It returns the state to persist, error or not. On success the inactive
// slot is armed for a trial boot with TrialTries tries. On failure it is
// marked bad and the error wraps ErrSignature, ErrProduct, ErrHardware,
// ErrDowngrade, ErrCorrupt, ErrManifest, ErrUnsupported or ErrWrite; with
// ErrUnconfirmed (or an invalid state) nothing changes and nothing is
// written.
//
// If dst has a Sync method (an *os.File does) it is called before the slot
// is armed.
func Install(r io.Reader, dst io.WriterAt, s Slots, trust Trust, hardware string) (Slots, error) {
	s, slot, err := Prepare(s)
	if err != nil {
		return s, err
	}
	m, err := install(r, dst, s, trust, hardware)
	if err != nil {
		return s, fmt.Errorf("firmware: install into slot %s: %w", slot, err)
	}
	*s.Slot(slot) = Slot{Status: Trial, Tries: TrialTries, Version: m.Version, Display: m.Display, MinVersion: m.MinVersion}
	return s, nil
}

func install(r io.Reader, dst io.WriterAt, s Slots, trust Trust, hardware string) (Manifest, error) {
	b, err := Open(r, trust, s.Target(hardware))
	if err != nil {
		return Manifest{}, err
	}
	names := make([]string, len(b.Manifest.Payloads))
	for i, p := range b.Manifest.Payloads {
		names[i] = p.Name
	}
	if !slices.Equal(names, []string{RootfsPayload}) {
		return Manifest{}, fmt.Errorf("%w: payloads %v; this installer writes exactly one %q payload", ErrUnsupported, names, RootfsPayload)
	}
	_, pr, err := b.Next()
	if err != nil {
		return Manifest{}, err
	}
	// The payload reader tees every byte into SHA-256 and reports a size
	// or hash mismatch at the end; only then does the slot get armed.
	if _, err := io.Copy(slotWriter{io.NewOffsetWriter(dst, 0)}, pr); err != nil {
		return Manifest{}, err
	}
	if _, _, err := b.Next(); err != io.EOF {
		return Manifest{}, err // nil is impossible: the manifest has one payload
	}
	if syncer, ok := dst.(interface{ Sync() error }); ok {
		if err := syncer.Sync(); err != nil {
			return Manifest{}, fmt.Errorf("%w: sync: %w; check the disk", ErrWrite, err)
		}
	}
	return b.Manifest, nil
}

// slotWriter marks write errors with ErrWrite, so they are told apart from
// a damaged bundle.
type slotWriter struct{ w io.Writer }

func (sw slotWriter) Write(b []byte) (int, error) {
	n, err := sw.w.Write(b)
	if err != nil {
		err = fmt.Errorf("%w: %w; check the disk", ErrWrite, err)
	}
	return n, err
}
