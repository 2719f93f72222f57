package command

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"wingnode/appliance/datadir"
	"wingnode/appliance/update"
	"wingnode/firmware"
)

const firmwareUsage = "usage: wingnode firmware keygen|sign|verify|install|siteit-token (see 'wingnode help firmware')"

// firmwareCmd signs, checks and installs update bundles (see firmware/DESIGN.md).
func (c Command) firmwareCmd(args []string) error {
	if len(args) == 0 {
		return usageError{status: 2, msg: firmwareUsage}
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		return c.helpFirmware()
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
		fs := c.flags(verb, "firmware "+verb+" -trust FILE -hardware HW [-slots FILE] [-slot-device FILE] [-esp DIR] BUNDLE\n\nverify checks a bundle's signature, product, hardware, version and every\npayload's hash without installing it. install streams it into the\ninactive root slot and arms a trial boot (the slot's systemd-boot entry\nroot-X+3.conf); the running slot is never touched, and a bundle that\nfails any check leaves the inactive slot marked bad, with no entry.")
		trustFile := fs.String("trust", "", "trust `file` holding the one or two public keys updates must be signed by")
		hardware := fs.String("hardware", "", "this device's `hardware`, e.g. amd64-uefi")
		slotsFile := fs.String("slots", "", "slot state `file` (on a device: on the data partition); for verify, optional: refuse what it would refuse")
		slotDevice := fs.String("slot-device", "", "write the inactive slot to this `file` instead of the root-a/root-b partition")
		espDir := fs.String("esp", "", "write the boot loader entries into this `folder` instead of the mounted EFI system partition")
		options := fs.String("kernel-options", "console=ttyS0 panic=-1", "kernel `options` of the new slot's boot loader entry")
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
		dev := firmware.Device{Hardware: *hardware, Trust: trust, SlotsFile: *slotsFile, KernelOptions: *options,
			OpenSlot: func(n firmware.SlotName) (firmware.SlotDevice, error) { return firmware.OpenSlotDevice(n) },
			MountESP: firmware.MountESP}
		if *slotDevice != "" {
			dev.OpenSlot = func(firmware.SlotName) (firmware.SlotDevice, error) {
				return os.OpenFile(*slotDevice, os.O_WRONLY|os.O_CREATE, 0o600)
			}
		}
		if *espDir != "" {
			dev.MountESP = func() (firmware.ESP, func() error, error) {
				return firmware.ESP(*espDir), func() error { return nil }, nil
			}
		}
		installed, slot, err := dev.Install(bundle)
		if err != nil {
			if installed.Slot(slot).Status == firmware.Bad {
				return fmt.Errorf("slot %s marked bad: %w", slot, err)
			}
			return err
		}
		fmt.Fprintf(c.Stdout, "installed into slot %s; the next boot tries it (%d tries) and falls back if it does not confirm\n", slot, firmware.TrialTries)
		return nil
	case "siteit-token":
		fs := c.flags("siteit-token", "firmware siteit-token -data DIR | -out FILE\n\nMakes a new site IT token for the wing's firmware endpoint and prints it\nonce; keep it in site IT's password store. Only its SHA-256 is kept, in\nDIR/siteit.sha256 on a wing (replacing the previous token), or in FILE\nfor 'wingimage -siteit-token-hash FILE'.")
		data := fs.String("data", "", "the wing's data `folder` (on an image: /data)")
		out := fs.String("out", "", "hash `file` to write instead, for the image builder")
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		if (*data == "") == (*out == "") {
			return usageError{status: 2, msg: "siteit-token needs one of -data and -out"}
		}
		path := *out
		if *data != "" {
			path = datadir.Dir(*data).SiteITHash()
		}
		token, err := update.NewSiteITToken(path)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "site IT token (shown only now; its SHA-256 is in %s):\n%s\n", path, token)
		return nil
	}
	return usageError{status: 2, msg: firmwareUsage}
}

// keyFlags collects repeated -key flags.
type keyFlags []string

func (k *keyFlags) String() string     { return strings.Join(*k, ",") }
func (k *keyFlags) Set(v string) error { *k = append(*k, v); return nil }

// helpFirmware prints what 'wingnode help firmware' prints, and ends with
// status 0.
func (c Command) helpFirmware() error {
	fmt.Fprintln(c.Stdout, firmwareUsage)
	for _, verb := range []string{"keygen", "sign", "verify", "install", "siteit-token"} {
		fmt.Fprintln(c.Stdout)
		Command{Args: []string{"firmware", verb, "-help"}, Stdout: c.Stdout, Stderr: c.Stdout}.Execute(context.Background())
	}
	return usageError{status: 0}
}
