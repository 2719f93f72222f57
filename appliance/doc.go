// Package appliance wires a wing appliance together, with one lifecycle
// (New, Run, Close). Each job has a room of its own; this package only
// builds them, hands each the small interfaces it needs, and mounts them:
//
//	appliance/hardware   the inputs, sensors and annunciators (periph)
//	appliance/recording  readings become events: the input rules, the one write path, the held spool
//	appliance/store      every event durable first (bbolt, group commit)
//	appliance/picture    the state folded from every event, and the open screens' feed
//	appliance/officer    officers' actions on the panel
//	appliance/update     site IT's firmware endpoint and the rollout agent
//	sync/member          the site membership: identity, site port, raft (sync/site)
//	sync/central         the site's events for central systems
//	ui                   the screens and the JSON API
//
// The path of an event: a reading (hardware) becomes a draft (recording);
// the store makes it durable and calls the commit hook (commit.go), whose
// steps fold it into the picture and tell the screens, settle the
// recording, wake the site's pull of this wing's outbox and refresh the
// annunciators; the site's leader commits it through raft, every wing's
// store ingests it, and central systems read it in commit order.
package appliance
