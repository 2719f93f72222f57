// Package ui serves the wing touchscreen and a small JSON API: the wing
// overview with its alarm cards, doors and environment sensors, the wing
// plan, the event log, the walk test page, the regime, the Site screen,
// the officers' sign-in and their alarm, walk test, regime and site
// lockdown actions, the roster's page, live updates over server-sent
// events, and /api/v1 for other systems. It reads the appliance only
// through the Wing interface.
//
// The pages are templ components (the .templ files, each beside its
// generated _templ.go file); the stylesheet and the script are embedded, and
// every page is sent with a Content-Security-Policy of default-src 'self', so
// nothing is loaded from outside the appliance and no script runs inline.
//
// # Alarms
//
// An alarm's card shows its lifecycle (raised, acknowledged, attended,
// escalated, its input back to normal) and only its next step:
// Acknowledge; Attend from the panel for staff alarms and door anomalies
// (a cell call is attended at its cell door, by its reset key: the card
// says so); Resolve… once acknowledged and, for a cell call, attended at
// the door, a page (GET /alarms/{wing}/{seq}/resolve) that asks for one of
// the wing's outcomes and an optional note before the POST records it;
// Close remotely…, a supervisor's exception with a reason. One word for
// one thing: resolve, on the screen, in the routes and in the API.
//
// # The script
//
// Every link and form goes through the page's script (static/app.js): it
// fetches the page or posts the form with the X-CSRF-Token header and puts
// the answer in place of the page. When the wing does not answer, the
// screen says "not sent, the wing is not answering", sends nothing, and
// comes back by itself once the wing answers: a tap never leaves the kiosk
// on a browser error page. Live updates wait while a finger is on the
// screen and for a moment after it lifts or an action is sent, so that
// acting on one alarm never moves another alarm's buttons under a finger.
//
// # Live updates
//
// GET /live?page=PAGE (overview, plan, walktest, site, events or frame)
// is a stream of server-sent events for that page. When it opens, and
// after each event from Wing.Subscribe, the server sends "fragment"
// messages whose data is an HTML element to put in place of the element
// with the same id ("fragments" messages hold several: the door tiles
// that changed together). Every page follows it for the frame: the regime, the
// clock warning, the alarm bar (this wing's alarms and faulted inputs,
// counted), the banner of every wing's escalated alarms, the walk test
// banner (this wing's and the other wings' walk tests), the Walk test
// link with its count of inputs that need proving, the Site link, and the
// site's banners (the lockdown, this wing's isolation, and the other
// wings' active alarms); the overview adds its alarm cards, the
// environment panel and each door tile; the plan each door and alarm
// point; the walk test page its controls, the proof summary, each
// landing's line and each input's row; the Site screen its table of
// wings, the lockdown panel and the list of the other wings' alarms. The
// event log's stream takes its filter (page=events&kind=...&subject=...)
// and sends "prepend" messages: new events that match, for the top of the
// list, while it shows the newest.
//
// Some parts change with time rather than with events: environment
// readings are not events, a walk test runs out at its end, and proofs fall
// overdue. Every 10 s the stream sends the environment panel (when the wing
// has sensors) and whatever of the banner, the count and the proof rows
// time has changed; a wing without sensors gets nothing but a keep-alive
// comment while nothing happens. Durations on the page count up in the
// browser from their data-since attribute.
//
// The site changes without events of this wing: a link goes down, the
// wing is cut off, a lockdown is agreed. Every 2 s the stream reads
// Wing.Site, and when it differs from the last reading it sends the parts
// that changed.
//
// # The site
//
// Every screen shows, under the header, the site lockdown while one is in
// force (who declared it, since when and why), a calm note while this wing
// is isolated from the site (it keeps recording; N events wait to be
// shared), and the other wings' active alarms, the most urgent first
// (priority, then oldest), at most three with a count of the rest. Those
// alarms are for information: each wing acknowledges its own, so they have
// no buttons here, and their points are named by id, since they are not in
// this wing's layout. The wing's own alarm panel stays the main content.
// The Site screen (/site) lists every wing with its link, vote, data age
// and committed seq, and declares or ends the lockdown after a
// confirmation step.
//
// When the subscription ends (the screen fell behind, or the appliance is
// stopping) the server sends "reload" and ends the stream; the page then
// reloads once the appliance answers again, and so does a page whose
// stream was lost and comes back (the wing may have restarted).
//
// # Officers and trust
//
// Officers sign in at the screen with their number and PIN (the sign-in
// pad, /signin, or POST /api/v1/signin), checked by Wing.SignIn against
// the roster the wing holds. Sessions are this wing's, in memory
// (session.go): one HttpOnly, SameSite=Strict cookie per browser holds a
// random id, and the CSRF token of its forms and of its script's
// X-CSRF-Token header is an HMAC of that id. A session ends after
// Options.SignOutIdle without a touch (the page's script reports touches
// at most every 30 s), by Switch officer (the pad for the next officer)
// or Sign out; each end is recorded through Wing.SignOut.
//
// Every request must name one of Options.Hosts or loopback. From off the
// board, every request but /healthz and the sign-in pad needs a signed-in
// officer (or Options.ReadCredentials, for reads); the kiosk on loopback
// reads everything signed out, live: alarms are never hidden behind a
// sign-in. Every route that changes something is wrapped in needs(role):
// same origin, a signed-in officer, the CSRF token, a role that allows it;
// handlers act for Server.actor. Supervisors manage the roster on the
// Officers page (/officers), site IT changes roles there too.
// appliance/signin/DESIGN.md says why it works this way.
package ui
