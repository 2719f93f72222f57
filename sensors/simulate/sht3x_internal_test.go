package simulate

import "testing"

func TestSHT3xCRC(t *testing.T) {
	// The datasheet's example (SHT3x-DIS, table 19).
	if got := sht3xCRC([]byte{0xbe, 0xef}); got != 0x92 {
		t.Fatalf("CRC of 0xBEEF = %#02x, want 0x92", got)
	}
}
