// Package wing folds events into the wing's current picture: each door's
// state and since when, each alarm's lifecycle, each input's faults.
//
// The fold is deterministic and independent of arrival order: a field is
// decided by the event with the greatest (for door and input state) or the
// least (for an alarm's acknowledgement and clearing) event.Key, never by
// which event arrived last. So every wing of a site, receiving the same
// events in whatever order, shows the same picture, and folding an event
// twice changes nothing.
//
// Lockdown, the site-wide lockdown, is defined here too, though the site
// agrees on it rather than folding it from events: the site keeps it and
// the screens show it as this one type.
package wing
