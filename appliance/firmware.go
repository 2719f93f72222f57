package appliance

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"wingnode/firmware"
)

const firmwareUsage = "usage: wingnode firmware keygen|sign|verify|install (see 'wingnode help firmware')"

// firmwareCmd signs, checks and installs update bundles (see firmware/DESIGN.md).
func (c Command) firmwareCmd(args []string) error {
	if len(args) == 0 {
		return usageError{status: 2, msg: firmwareUsage}
	}
	switch args[0] {
	case "keygen":
		fs := c.flags("keygen", "firmware keygen -key FILE -public FILE\n\nMakes a signing key pair. Keep the private key off the wings; put the\npublic key in each wing's trust file.")
		key := fs.String("key", "", "private key `file` to write (mode 0600; never overwritten)")
		public := fs.String("public", "", "public key `file` to write")
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		if *key == "" || *public == "" {
			return usageError{status: 2, msg: "keygen needs -key and -public"}
		}
		k, err := firmware.GenerateKey(nil)
		if err != nil {
			return err
		}
		if err := firmware.WritePrivateKey(*key, k); err != nil {
			return err
		}
		pub, err := k.Public().MarshalText()
		if err != nil {
			return err
		}
		if err := os.WriteFile(*public, append(pub, '\n'), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "key %s: private %s, public %s\n", k.ID(), *key, *public)
		return nil
	case "sign":
		fs := c.flags("sign", "firmware sign -key FILE [-key FILE] -hardware HW -version N [-min-version N] [-display TEXT] -rootfs FILE -out BUNDLE\n\nWrites a signed update bundle. Give two -key flags while rotating keys.")
		var keys keyFlags
		fs.Var(&keys, "key", "private key `file` (once, or twice while rotating)")
		hardware := fs.String("hardware", "", "`hardware` the bundle is for, e.g. amd64-uefi")
		version := fs.Uint64("version", 0, "monotonic build `number`")
		minVersion := fs.Uint64("min-version", 0, "anti-rollback floor: devices never go below this `number` again")
		display := fs.String("display", "", "version as shown to people, e.g. 2026.11.7")
		rootfs := fs.String("rootfs", "", "root file system image `file`")
		out := fs.String("out", "", "bundle `file` to write")
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		if len(keys) == 0 || *hardware == "" || *version == 0 || *rootfs == "" || *out == "" {
			return usageError{status: 2, msg: "sign needs -key, -hardware, -version, -rootfs and -out"}
		}
		var priv []firmware.PrivateKey
		for _, path := range keys {
			k, err := firmware.ReadPrivateKey(path)
			if err != nil {
				return err
			}
			priv = append(priv, k)
		}
		f, err := os.Open(*rootfs)
		if err != nil {
			return err
		}
		defer f.Close()
		p, err := firmware.HashPayload(firmware.RootfsPayload, f)
		if err != nil {
			return err
		}
		if _, err := f.Seek(0, 0); err != nil {
			return err
		}
		m := firmware.Manifest{Format: firmware.ManifestFormat, Product: firmware.Product, Hardware: *hardware, Version: *version,
			MinVersion: *minVersion, Display: *display, Created: time.Now().UTC().Truncate(time.Second), Payloads: []firmware.Payload{p}}
		w, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		if err := errors.Join(firmware.WriteBundle(w, m, []io.Reader{f}, priv...), w.Close()); err != nil {
			os.Remove(*out)
			return err
		}
		fmt.Fprintf(c.Stdout, "%s: wingnode %d (%s) for %s, signed by %d key(s)\n", *out, *version, *display, *hardware, len(priv))
		return nil
	case "verify", "install":
		verb := args[0]
		fs := c.flags(verb, "firmware "+verb+" -trust FILE -hardware HW [-slots FILE] [-slot-device FILE] BUNDLE\n\nverify checks a bundle's signature, product, hardware, version and every\npayload's hash without installing it. install streams it into the\ninactive root slot and arms a trial boot; the running slot is never\ntouched, and a bundle that fails any check leaves the inactive slot\nmarked bad.")
		trustFile := fs.String("trust", "", "trust `file` holding the one or two public keys updates must be signed by")
		hardware := fs.String("hardware", "", "this device's `hardware`, e.g. amd64-uefi")
		slotsFile := fs.String("slots", "", "slot state `file` (on a device: on the data partition); for verify, optional: refuse what it would refuse")
		slotDevice := fs.String("slot-device", "", "write the inactive slot to this `file` instead of the root-a/root-b partition")
		if err := fs.Parse(args[1:]); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return usageError{status: 0}
			}
			return usageError{status: 2}
		}
		if fs.NArg() != 1 || *trustFile == "" || *hardware == "" || (verb == "install" && *slotsFile == "") {
			return usageError{status: 2, msg: verb + " needs -trust, -hardware" + map[bool]string{true: ", -slots", false: ""}[verb == "install"] + " and one BUNDLE"}
		}
		tb, err := os.ReadFile(*trustFile)
		if err != nil {
			return err
		}
		trust, err := firmware.ParseTrust(tb)
		if err != nil {
			return err
		}
		bundle, err := os.Open(fs.Arg(0))
		if err != nil {
			return err
		}
		defer bundle.Close()
		target := firmware.Target{Hardware: *hardware}
		var slots firmware.Slots
		if *slotsFile != "" {
			if slots, err = firmware.LoadSlots(*slotsFile); err != nil {
				return err
			}
			target = slots.Target(*hardware)
		}
		if verb == "verify" {
			m, err := firmware.Verify(bundle, trust, target)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.Stdout, "%s: wingnode %d (%s) for %s: signature and payloads verified\n", fs.Arg(0), m.Version, m.Display, m.Hardware)
			return nil
		}
		prepared, slot, err := firmware.Prepare(slots)
		if err != nil {
			return err
		}
		if err := firmware.SaveSlots(*slotsFile, prepared); err != nil {
			return err
		}
		var dst *os.File
		if *slotDevice != "" {
			dst, err = os.OpenFile(*slotDevice, os.O_WRONLY|os.O_CREATE, 0o600)
		} else {
			dst, err = firmware.OpenSlotDevice(slot)
		}
		if err != nil {
			return err
		}
		installed, ierr := firmware.Install(bundle, dst, prepared, trust, *hardware)
		ierr = errors.Join(ierr, dst.Sync(), dst.Close())
		if err := firmware.SaveSlots(*slotsFile, installed); err != nil {
			return errors.Join(ierr, err)
		}
		if ierr != nil {
			return fmt.Errorf("slot %s marked bad: %w", slot, ierr)
		}
		fmt.Fprintf(c.Stdout, "installed into slot %s; the next boot tries it (%d tries) and falls back if it does not confirm\n", slot, firmware.TrialTries)
		return nil
	}
	return usageError{status: 2, msg: firmwareUsage}
}

// keyFlags collects repeated -key flags.
type keyFlags []string

func (k *keyFlags) String() string     { return strings.Join(*k, ",") }
func (k *keyFlags) Set(v string) error { *k = append(*k, v); return nil }
