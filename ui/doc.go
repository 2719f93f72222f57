// Package ui serves the wing touchscreen and a small JSON API: the wing
// overview with its alarms and doors, the event log, the officers' alarm
// actions, live updates over server-sent events, and /api/v1 for other
// systems. It reads the appliance only through the Wing interface.
//
// The pages are templ components (the .templ files, each beside its
// generated _templ.go file); the stylesheet and the script are embedded, and
// every page is sent with a Content-Security-Policy of default-src 'self', so
// nothing is loaded from outside the appliance and no script runs inline.
//
// # Live updates
//
// GET /live is a stream of server-sent events. When it opens, and after each
// event from Wing.Subscribe, the server sends "fragment" messages whose data
// is an HTML element to put in place of the element with the same id: a door
// tile, the alarm panel or the clock warning. When the subscription ends
// (the screen fell behind, or the appliance is stopping) the server sends
// "reload" and ends the stream; the page then reloads once the appliance
// answers again. Durations on the page count up in the browser from their
// data-since attribute, so the server sends nothing while nothing happens
// but a keep-alive comment.
//
// # Caveats
//
// Officers do not sign in yet: every action is recorded as Options.Officer,
// and the screen says so.
package ui
