package firmware

import "errors"

// Sentinel errors. Functions wrap them with a sentence saying what went
// wrong and what to do; test for them with errors.Is.
var (
	// ErrSignature: no signature on the manifest was made by a trusted key.
	ErrSignature = errors.New("firmware: bundle is not signed by a trusted key")
	// ErrProduct: the bundle is for another product.
	ErrProduct = errors.New("firmware: bundle is for another product")
	// ErrHardware: the bundle was built for other hardware.
	ErrHardware = errors.New("firmware: bundle is for other hardware")
	// ErrDowngrade: the bundle is not newer than the running version or is
	// below the anti-rollback floor.
	ErrDowngrade = errors.New("firmware: bundle would downgrade the appliance")
	// ErrCorrupt: the bundle is malformed, truncated, or a payload's size
	// or SHA-256 does not match its manifest.
	ErrCorrupt = errors.New("firmware: bundle is damaged")
	// ErrManifest: a manifest does not parse or breaks a rule.
	ErrManifest = errors.New("firmware: manifest is invalid")
	// ErrKey: a key file does not parse, or a trust set is wrong.
	ErrKey = errors.New("firmware: key is invalid")
	// ErrUnsupported: the bundle carries payloads this installer cannot write.
	ErrUnsupported = errors.New("firmware: bundle is not supported by this installer")
	// ErrUnconfirmed: the running slot is still on trial, so the other slot
	// is the only known-good fall-back and must not be overwritten.
	ErrUnconfirmed = errors.New("firmware: running slot is not confirmed")
	// ErrNoBootableSlot: neither slot can be booted.
	ErrNoBootableSlot = errors.New("firmware: no bootable slot")
	// ErrState: a slot state file does not parse or breaks a rule.
	ErrState = errors.New("firmware: slot state is invalid")
	// ErrWrite: writing the inactive slot failed.
	ErrWrite = errors.New("firmware: writing the inactive slot failed")
)
