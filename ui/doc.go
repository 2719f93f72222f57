// Package ui serves the wing touchscreen and a small JSON API: the wing
// overview with its alarms, doors and environment sensors, the event log,
// the walk test page, the officers' alarm and walk test actions, live
// updates over server-sent events, and /api/v1 for other systems. It reads
// the appliance only through the Wing interface.
//
// The pages are templ components (the .templ files, each beside its
// generated _templ.go file); the stylesheet and the script are embedded, and
// every page is sent with a Content-Security-Policy of default-src 'self', so
// nothing is loaded from outside the appliance and no script runs inline.
//
// # Live updates
//
// GET /live?page=overview (or page=walktest) is a stream of server-sent
// events for that page. When it opens, and after each event from
// Wing.Subscribe, the server sends "fragment" messages whose data is an
// HTML element to put in place of the element with the same id. Every page
// has the clock warning, the walk test banner and the Walk test link with
// its count of inputs due a proof; the overview adds the alarm panel, the
// environment panel and each door tile; the walk test page adds its
// controls, the proof summary and each input's row.
//
// Some parts change with time rather than with events: environment
// readings are not events, a walk test runs out at its end, and proofs fall
// overdue. Every 10 s the stream sends the environment panel (when the wing
// has sensors) and whatever of the banner, the count and the proof rows
// time has changed; a wing without sensors gets nothing but a keep-alive
// comment while nothing happens. Durations on the page count up in the
// browser from their data-since attribute.
//
// When the subscription ends (the screen fell behind, or the appliance is
// stopping) the server sends "reload" and ends the stream; the page then
// reloads once the appliance answers again. The event log does not follow
// the stream: it shows the walk test banner as it was when loaded.
//
// # Caveats
//
// Officers do not sign in yet: every action, walk tests included, is
// recorded as Options.Officer, and the screen says so.
package ui
