package firmware

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestFindPartition(t *testing.T) {
	uevent := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	sys := fstest.MapFS{
		"vda/uevent":  uevent("MAJOR=254\nMINOR=0\nDEVNAME=vda\nDEVTYPE=disk\n"),
		"vda2/uevent": uevent("MAJOR=254\nMINOR=2\nDEVNAME=vda2\nDEVTYPE=partition\nPARTN=2\nPARTNAME=root-a\n"),
		"vda3/uevent": uevent("MAJOR=254\nMINOR=3\nDEVNAME=vda3\nDEVTYPE=partition\nPARTN=3\nPARTNAME=root-b\n"),
		"vdb1/uevent": uevent("MAJOR=254\nMINOR=17\nDEVNAME=vdb1\nDEVTYPE=partition\nPARTNAME=data\n"),
	}
	p, err := findPartition(sys, "root-b")
	if err != nil || p != (partition{name: "vda3", majorMinor: "254:3"}) {
		t.Fatalf("findPartition = %+v, %v", p, err)
	}
	if _, err := findPartition(sys, "root-c"); err == nil {
		t.Fatal("found a partition that is not there")
	}
	sys["sda2/uevent"] = uevent("MAJOR=8\nMINOR=2\nDEVNAME=sda2\nPARTNAME=root-b\n")
	if _, err := findPartition(sys, "root-b"); err == nil {
		t.Fatal("two disks with a root-b: picked one instead of refusing")
	}
}

func TestIsMounted(t *testing.T) {
	info := "22 1 254:2 / / ro,relatime shared:1 - squashfs /dev/root ro\n" +
		"23 22 254:4 / /perm rw,relatime shared:2 - ext4 /dev/vda4 rw\n"
	for mm, want := range map[string]bool{"254:2": true, "254:4": true, "254:3": false, "54:2": false} {
		if got, err := isMounted(strings.NewReader(info), mm); err != nil || got != want {
			t.Errorf("isMounted(%s) = %v, %v; want %v", mm, got, err, want)
		}
	}
}
