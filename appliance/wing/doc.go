// Package wing folds events into the wing's current picture: each door's
// state and since when, each alarm's lifecycle, each input's faults.
//
// The fold is deterministic and independent of arrival order: a field is
// decided by the event with the greatest (for door and input state) or the
// least (for each step of an alarm's lifecycle: acknowledged, attended,
// resolved, escalated) event.Key, never by
// which event arrived last. So every wing of a site, receiving the same
// events in whatever order, shows the same picture, and folding an event
// twice changes nothing.
//
// Lockdown, the site-wide lockdown, is agreed by the site (sync/site
// commits it through raft) and recorded in the chain of the wing that
// declared it; both use this one type. A wing's regime (unlock, lockup,
// night) follows its daily schedule unless a supervisor sets it.
//
// The officer's shift folds the same way: each cell's observation plan
// (the latest set or end), its latest checks and presence at the door, the
// expected roll of each cell, each landing's latest counts, each wing's
// signed rolls and handovers. A correction strikes a record without
// erasing it; the views (LastCheck, NextDue, LastCount, RollCorrect,
// LatestHandover) pass over struck records to the one before.
package wing
