package firmware

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// failingWriter is a slot whose disk fails after limit bytes.
type failingWriter struct{ limit int64 }

func (f failingWriter) WriteAt(b []byte, off int64) (int, error) {
	if off+int64(len(b)) > f.limit {
		return 0, io.ErrShortWrite
	}
	return len(b), nil
}

func TestInstall(t *testing.T) {
	key, stranger := testKey(t, 1), testKey(t, 9)
	trust := testTrust(t, key)
	activeBytes := pseudoRandom(300_000, 7)
	payload := pseudoRandom(200_000, 8)
	state := NewSlots(7, "2026.11.7")
	state.Floor = 5

	m := testManifest(t, 8, 6, payload)
	good := testBundle(t, m, [][]byte{payload}, key)
	otherHardware := m
	otherHardware.Hardware = "rpi4"
	tampered := append([]byte(nil), good...)
	tampered[bytes.Index(tampered, payload)+123_456] ^= 0x80
	kernel, err := HashPayload("kernel", bytes.NewReader([]byte("vmlinuz")))
	if err != nil {
		t.Fatal(err)
	}
	withKernel := m
	withKernel.Payloads = append([]Payload{kernel}, m.Payloads...)

	for _, tc := range []struct {
		name   string
		bundle []byte
		dst    io.WriterAt // nil: a temp file
		want   error
	}{
		{"bad signature", testBundle(t, m, [][]byte{payload}, stranger), nil, ErrSignature},
		{"wrong hardware", testBundle(t, otherHardware, [][]byte{payload}, key), nil, ErrHardware},
		{"downgrade below the floor", testBundle(t, testManifest(t, 4, 1, payload), [][]byte{payload}, key), nil, ErrDowngrade},
		{"same version", testBundle(t, testManifest(t, 7, 5, payload), [][]byte{payload}, key), nil, ErrDowngrade},
		{"truncated in the payload", good[:bytes.Index(good, payload)+100_000], nil, ErrCorrupt},
		{"truncated before the payload", good[:bytes.Index(good, payload)], nil, ErrCorrupt},
		{"payload hash mismatch", tampered, nil, ErrCorrupt},
		{"extra payload", testBundle(t, withKernel, [][]byte{[]byte("vmlinuz"), payload}, key), nil, ErrUnsupported},
		{"disk fails", good, failingWriter{limit: 50_000}, ErrWrite},
	} {
		t.Run(tc.name, func(t *testing.T) {
			active := slotFile(t, "root-a", activeBytes)
			inactive := slotFile(t, "root-b", pseudoRandom(300_000, 9))
			dst := tc.dst
			if dst == nil {
				dst = inactive
			}
			got, err := Install(bytes.NewReader(tc.bundle), dst, state, trust, "amd64-uefi")
			if !errors.Is(err, tc.want) {
				t.Fatalf("Install = %v, want %v", err, tc.want)
			}
			t.Log(err)
			if got.B != (Slot{Status: Bad}) {
				t.Errorf("inactive slot after a failed install: %+v, want bad", got.B)
			}
			if got.A != state.A || got.Active != SlotA || got.Floor != state.Floor {
				t.Errorf("active slot state changed: %+v", got)
			}
			if !bytes.Equal(fileBytes(t, active), activeBytes) {
				t.Error("the active slot's bytes changed")
			}
			if _, slot, err := Boot(got); err != nil || slot != SlotA {
				t.Errorf("after a failed install Boot picks %q (%v), want a", slot, err)
			}
		})
	}

	t.Run("good", func(t *testing.T) {
		active := slotFile(t, "root-a", activeBytes)
		inactive := slotFile(t, "root-b", pseudoRandom(300_000, 9))
		got, err := Install(bytes.NewReader(good), inactive, state, trust, "amd64-uefi")
		if err != nil {
			t.Fatal(err)
		}
		want := state
		want.B = Slot{Status: Trial, Tries: TrialTries, Version: 8, Display: "2026.11.8", MinVersion: 6}
		if got != want {
			t.Fatalf("state %+v, want %+v", got, want)
		}
		if !bytes.Equal(fileBytes(t, inactive)[:len(payload)], payload) {
			t.Error("the inactive slot does not hold the payload")
		}
		if !bytes.Equal(fileBytes(t, active), activeBytes) {
			t.Error("the active slot's bytes changed")
		}
	})

	t.Run("running slot unconfirmed", func(t *testing.T) {
		onTrial := state
		onTrial.Active = SlotB
		onTrial.B = Slot{Status: Trial, Tries: 2, Version: 8}
		inactive := slotFile(t, "root-a", activeBytes)
		got, err := Install(bytes.NewReader(good), inactive, onTrial, trust, "amd64-uefi")
		if !errors.Is(err, ErrUnconfirmed) || got != onTrial {
			t.Fatalf("Install = %+v, %v; want the state unchanged and ErrUnconfirmed", got, err)
		}
		if !bytes.Equal(fileBytes(t, inactive), activeBytes) {
			t.Error("the only good slot was written to")
		}
	})
}
