// Package scenario reads time-scripted scenario files and plays them on a
// simulated wing: doors opening, buttons pressed, supervised lines failing,
// environment sensors getting hot or going silent, storms of changes,
// officers checking cells and counting the roll, at
// set offsets from the start, so that a demonstration, a manual test or a
// load test is the same every time.
//
// # File format
//
// One step per line; '#' starts a comment. A step is an offset from the
// start of play (MM:SS or H:MM:SS, optionally with milliseconds as
// 00:05.250), a verb, and its arguments. Points are named by their wing
// configuration ids: door ids, alarm point ids, sensor ids.
//
//	00:05 open A1-03 for 3m        # the door opens, and closes 3 minutes later
//	00:06 open A1-04               # ... and stays open
//	00:07 close A1-04
//	00:07 press A1-03-CALL         # pressed, released 500ms later
//	00:08 hold A-STAFF-1 for 10s   # pressed, released 10s later
//	00:09 fault B2-11 open-circuit # a supervised line: open-circuit, short-circuit, tamper, or normal (repaired)
//	00:10 climate ENV-A1 31.5C 60% # temperature (-40 to 125 °C) and relative humidity (0 to 100%)
//	00:11 silent ENV-A1            # the sensor stops answering ...
//	00:12 bounce A1-04 open 5      # opens with 5 contact bounces (open|close|press|release, 1 to 100)
//	00:13 bounce A1-04 close 2
//	00:20 storm all 50/s for 10s   # every door and alarm point toggles 50 times a second (0.01/s to 1000/s)
//	00:30 lock A1-03               # the door's lock (bolt) contact reads locked ...
//	00:31 unlock A1-03             # ... and unlocked; lock DOOR for DURATION unlocks by itself
//	00:32 reset A1-03-CALL         # the cell call's reset key switch at the door is turned
//	00:33 regime night             # a supervisor puts the wing in its night regime (unlock, lockup, night)
//	00:34 reset A1-05-CALL         # no call is active: an officer's presence at the door ...
//	00:35 check A1-05 sign-of-life # ... and the check's outcome (spoke, seen-moving, sign-of-life, seen, no-response)
//	00:36 count 1 19               # an officer counts landing 1
//	00:37 sign roll                # the officer in charge signs the roll
//	00:41 answer ENV-A1            # ... and answers again
//	00:42 open A1-05
//	00:50 release A1-05            # as close
//	05:00 repeat                   # start again from 00:00 (optional; the last step)
//
// Steps go in time order; steps at the same time are made in line order.
// Durations are Go durations (500ms, 10s, 3m, 1h30m), at most 24h. A storm
// may name one input instead of all; each input's changes are spread a
// fraction of an interval apart from the others', start with active, and
// are an even number, so every input ends as it started. With repeat,
// every step must be over (the close after "open ... for", a storm's last
// change) by the repeat time.
//
// Parse reports every problem in a file at once, each with its line; Check
// reports ids the wing does not have, or of the wrong kind.
//
// # Playing
//
// Play drives a Target (simulate.Wiring is one) on a clockwork clock; on a
// fake clock, what happens when is exactly the same however the clock is
// advanced. Default is the built-in scenario for make run; Storm makes the
// storm scenario for load tests.
package scenario
