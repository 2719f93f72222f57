package ui

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"wingnode/appliance/event"
	"wingnode/appliance/roster"
	"wingnode/appliance/wing"
)

// siteBannerAlarms is how many of the other wings' alarms the site banner
// lists on every screen; the Site screen lists them all. Three keep the
// banner to one or two lines at 800×480, under the wing's own alarms' room.
const siteBannerAlarms = 3

// lockdownTimeout bounds how long the screen and the API wait for the site
// to agree a lockdown before telling the officer it could not.
const lockdownTimeout = 10 * time.Second

// siteEvery is how often a live stream looks at Wing.Site: a link going
// down, isolation and the lockdown are not events of this wing.
const siteEvery = 2 * time.Second

// siteFrame is what every page shows of the site, under the header.
type siteFrame struct {
	Lockdown  lockdownBanner
	Isolation isolationBanner
	Alarms    siteAlarmBanner
	Link      siteLink
}

// lockdownBanner is the site-wide lockdown as every screen shows it.
type lockdownBanner struct {
	Active bool
	By     string
	Since  string // clock time, see clockTimeNear
	Reason string
}

// isolationBanner says that this wing cannot reach the site.
type isolationBanner struct {
	Isolated bool
	Since    string // clock time; empty when the appliance does not know
	Waiting  uint64
}

// waiting is the count of events in words.
func (b isolationBanner) waiting() string {
	if b.Waiting == 1 {
		return "1 event"
	}
	return strconv.FormatUint(b.Waiting, 10) + " events"
}

// siteLink is the Site button in the header, with the site's trouble in a
// word or two.
type siteLink struct {
	Isolated    bool
	Unreachable int // other wings this wing cannot reach
	Lockdown    bool
}

// note is the small word under "Site", empty when all is well.
func (l siteLink) note() string {
	switch {
	case l.Lockdown:
		return "LOCKDOWN"
	case l.Isolated:
		return "isolated"
	case l.Unreachable > 0:
		return strconv.Itoa(l.Unreachable) + " unreachable"
	}
	return ""
}

// siteAlarmRow is an active alarm of another wing. Its point is not in this
// wing's layout: the row shows the point's id and what the event says.
type siteAlarmRow struct {
	ID       event.ID
	Wing     string
	Point    string
	Kind     string
	Priority int
	Raised   since
	AckBy    string // empty while unacknowledged
}

func (a siteAlarmRow) testID() string {
	return "site-alarm-" + a.ID.Wing + "-" + strconv.FormatUint(a.ID.Seq, 10)
}

// same reports whether two rows show the same, leaving out the age, which
// the browser counts up.
func (a siteAlarmRow) same(b siteAlarmRow) bool {
	return a.ID == b.ID && a.Wing == b.Wing && a.Point == b.Point && a.Kind == b.Kind &&
		a.Priority == b.Priority && a.Raised.At.Equal(b.Raised.At) && a.AckBy == b.AckBy
}

// siteAlarmBanner is the strip of other wings' alarms on every screen.
type siteAlarmBanner struct {
	Rows []siteAlarmRow // the most urgent siteBannerAlarms
	More int            // further alarms, listed on the Site screen
	// Stale is true while this wing is isolated: the other wings' alarms
	// are as last heard, and may have been dealt with since.
	Stale bool
}

func (b siteAlarmBanner) same(o siteAlarmBanner) bool {
	return b.More == o.More && b.Stale == o.Stale && slices.EqualFunc(b.Rows, o.Rows, siteAlarmRow.same)
}

// siteWingRow is one wing on the Site screen.
type siteWingRow struct {
	Wing      string
	Local     bool
	Link      string
	Voter     bool
	Leader    bool
	Committed uint64
	Data      since // the age of the wing's newest event held here
}

// linkLabel is the wing's link in words.
func (r siteWingRow) linkLabel() string {
	switch Link(r.Link) {
	case LinkLocal:
		return "this wing"
	case LinkConnected:
		return "connected"
	case LinkUnreachable:
		return "UNREACHABLE"
	}
	return cmp.Or(r.Link, "unknown")
}

func (r siteWingRow) same(o siteWingRow) bool {
	return r.Wing == o.Wing && r.Local == o.Local && r.Link == o.Link && r.Voter == o.Voter &&
		r.Leader == o.Leader && r.Committed == o.Committed && r.Data.At.Equal(o.Data.At)
}

// siteStatusPanel is the Site screen's table of wings.
type siteStatusPanel struct {
	Site     string // empty for a wing on its own
	Wing     string
	Leader   string
	Isolated bool
	Rows     []siteWingRow
	Rollout  string // where the site's firmware rollout is; empty when none
	Refused  []refusedRow
}

func (p siteStatusPanel) same(o siteStatusPanel) bool {
	return p.Site == o.Site && p.Wing == o.Wing && p.Leader == o.Leader && p.Isolated == o.Isolated && p.Rollout == o.Rollout &&
		slices.EqualFunc(p.Rows, o.Rows, siteWingRow.same) && slices.Equal(p.Refused, o.Refused)
}

// refusedRow is a command the site refused, on the Site screen.
type refusedRow struct {
	Index  uint64
	When   string // clock time, see clockTimeNear; empty when unknown
	Op     string
	From   string
	By     string
	Reason string
}

func (r refusedRow) testID() string { return "site-refused-" + strconv.FormatUint(r.Index, 10) }

// alone reports whether the wing runs on its own, not yet part of a site.
func (p siteStatusPanel) alone() bool { return p.Site == "" && len(p.Rows) <= 1 }

// lockdownPanel declares or ends the site lockdown on the Site screen.
type lockdownPanel struct {
	Lockdown lockdownBanner
	Isolated bool // declaring or ending will fail until the site is back
	Officer  string
}

// siteAlarmList is every active alarm of the other wings, on the Site screen.
type siteAlarmList struct {
	Rows  []siteAlarmRow
	Stale bool
}

func (l siteAlarmList) same(o siteAlarmList) bool {
	return l.Stale == o.Stale && slices.EqualFunc(l.Rows, o.Rows, siteAlarmRow.same)
}

type sitePage struct {
	Header   header
	Status   siteStatusPanel
	Lockdown lockdownPanel
	Alarms   siteAlarmList
	Rolls    []siteRoll // each wing's roll (roll.go)
	// After a declare or end that failed: what the officer is told, and the
	// reason they typed, so they can try again.
	Problem string
	Reason  string
}

// lockdownConfirmPage asks the officer to confirm a declare or an end.
type lockdownConfirmPage struct {
	Header  header
	Declare bool
	Reason  string
	Officer string
	Current lockdownBanner
}

// clockTimeNear formats t for a banner: the time of day when t is on the
// same day as now, and the date too when it is not. Empty when unknown.
func clockTimeNear(t, now time.Time) string {
	if !event.Trusted(t) {
		return ""
	}
	lt, ln := t.In(time.Local), now.In(time.Local)
	if y, m, d := lt.Date(); y == ln.Year() && m == ln.Month() && d == ln.Day() {
		return lt.Format("15:04")
	}
	return lt.Format("2 Jan 15:04")
}

// siteAlarmRows lists the other wings' active alarms, the most urgent
// first: by priority, then the oldest.
func (v view) siteAlarmRows() []siteAlarmRow {
	var alarms []wing.Alarm
	for _, a := range v.state.Alarms {
		if a.Active() && a.ID.Wing != v.layout.ID {
			alarms = append(alarms, a)
		}
	}
	slices.SortFunc(alarms, func(a, b wing.Alarm) int {
		return cmp.Or(cmp.Compare(a.Priority, b.Priority), a.RaisedKey.Compare(b.RaisedKey),
			cmp.Compare(a.ID.Wing, b.ID.Wing), cmp.Compare(a.ID.Seq, b.ID.Seq))
	})
	rows := make([]siteAlarmRow, 0, len(alarms))
	for _, a := range alarms {
		r := siteAlarmRow{
			ID: a.ID, Wing: a.ID.Wing, Point: a.Point, Kind: pointKindLabel(a.PointKind),
			Priority: a.Priority, Raised: sinceOf(a.RaisedAt, v.now),
		}
		if a.Acknowledged != nil {
			r.AckBy = a.Acknowledged.By
		}
		rows = append(rows, r)
	}
	return rows
}

// sameSite reports whether two readings of Wing.Site say the same.
func sameSite(a, b SiteStatus) bool {
	return a.Site == b.Site && a.Wing == b.Wing && a.Leader == b.Leader && a.Isolated == b.Isolated &&
		a.IsolatedSince.Equal(b.IsolatedSince) && a.Waiting == b.Waiting &&
		a.Lockdown.Active == b.Lockdown.Active && a.Lockdown.Reason == b.Lockdown.Reason &&
		a.Lockdown.By == b.Lockdown.By && a.Lockdown.Since.Equal(b.Lockdown.Since) &&
		slices.EqualFunc(a.Refused, b.Refused, func(x, y RefusedCommand) bool { return x.Index == y.Index }) &&
		slices.EqualFunc(a.Wings, b.Wings, func(x, y WingLink) bool {
			return x.Wing == y.Wing && x.Link == y.Link && x.Voter == y.Voter && x.Committed == y.Committed && x.LastEvent.Equal(y.LastEvent)
		})
}

// siteFrame is what every page shows of the site.
func (v view) siteFrame() siteFrame {
	st := v.site
	f := siteFrame{
		Isolation: isolationBanner{Isolated: st.Isolated, Waiting: st.Waiting},
		Link:      siteLink{Isolated: st.Isolated, Lockdown: st.Lockdown.Active},
	}
	if st.Isolated {
		f.Isolation.Since = clockTimeNear(st.IsolatedSince, v.now)
	}
	if st.Lockdown.Active {
		f.Lockdown = lockdownBanner{Active: true, By: st.Lockdown.By, Reason: st.Lockdown.Reason, Since: clockTimeNear(st.Lockdown.Since, v.now)}
	}
	for _, w := range st.Wings {
		if w.Link == LinkUnreachable && w.Wing != v.layout.ID {
			f.Link.Unreachable++
		}
	}
	rows := v.siteAlarmRows()
	f.Alarms = siteAlarmBanner{Rows: rows[:min(len(rows), siteBannerAlarms)], More: max(len(rows)-siteBannerAlarms, 0), Stale: st.Isolated}
	return f
}

// siteStatus is the Site screen's table: this wing first, then the others
// by id.
func (v view) siteStatus() siteStatusPanel {
	st := v.site
	p := siteStatusPanel{Site: st.Site, Wing: cmp.Or(st.Wing, v.layout.ID), Leader: st.Leader, Isolated: st.Isolated, Rollout: rolloutSentence(st.Rollout)}
	for _, w := range st.Wings {
		p.Rows = append(p.Rows, siteWingRow{
			Wing: w.Wing, Local: w.Wing == p.Wing || w.Link == LinkLocal, Link: string(w.Link), Voter: w.Voter,
			Leader: w.Wing != "" && w.Wing == st.Leader, Committed: w.Committed, Data: sinceOf(w.LastEvent, v.now),
		})
	}
	for _, c := range slices.Backward(st.Refused) { // the newest first
		p.Refused = append(p.Refused, refusedRow{Index: c.Index, When: clockTimeNear(c.At, v.now), Op: c.Op, From: c.From, By: c.By, Reason: c.Reason})
	}
	slices.SortStableFunc(p.Rows, func(a, b siteWingRow) int {
		if a.Local != b.Local {
			if a.Local {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Wing, b.Wing)
	})
	return p
}

func (v view) lockdownPanel(officer string) lockdownPanel {
	return lockdownPanel{Lockdown: v.siteFrame().Lockdown, Isolated: v.site.Isolated, Officer: officer}
}

func (v view) siteAlarmList() siteAlarmList {
	return siteAlarmList{Rows: v.siteAlarmRows(), Stale: v.site.Isolated}
}

func (s *Server) sitePage(v view, h header, officer roster.Actor) sitePage {
	return sitePage{Header: h, Status: v.siteStatus(), Lockdown: v.lockdownPanel(officer.ID), Alarms: v.siteAlarmList(), Rolls: v.siteRolls()}
}

func (s *Server) siteScreen(w http.ResponseWriter, r *http.Request) {
	officer, _ := s.actor(r)
	v := s.view()
	h := s.header(v)
	h.Live = liveSite
	s.render(w, r, http.StatusOK, siteView(s.sitePage(v, h, officer)))
}

// lockdownProblem turns an error from Wing.SetLockdown into what the
// officer or the calling system is told. Nothing changed, so the sentence
// says what to do instead.
func lockdownProblem(declare bool, err error) string {
	what := "The site lockdown could not be ended"
	if declare {
		what = "The site lockdown could not be declared"
	}
	switch {
	case errors.Is(err, ErrSiteUnreachable):
		what += ": this wing cannot reach enough of the site to agree it"
	case errors.Is(err, context.DeadlineExceeded):
		what += fmt.Sprintf(": the site did not agree it within %d s", int(lockdownTimeout/time.Second))
	default:
		what += " (" + err.Error() + ")"
	}
	if declare {
		return what + ". Nothing has changed on any wing. Raise the lockdown by radio or phone as the site's emergency procedure says, and try again here."
	}
	return what + ". The lockdown is still in force on every wing. Tell the other wings by radio or phone, and try again here."
}

// setLockdown asks the site to agree the lockdown for officer, waiting at
// most lockdownTimeout.
func (s *Server) setLockdown(ctx context.Context, officer roster.Actor, declare bool, reason string) error {
	ctx, cancel := context.WithTimeout(ctx, lockdownTimeout)
	defer cancel()
	err := s.wing.SetLockdown(ctx, officer, declare, reason)
	if err != nil && !errors.Is(err, ErrSiteUnreachable) {
		s.opt.Logger.WarnContext(ctx, "ui: site lockdown not agreed", "err", err, "declare", declare)
	}
	return err
}

// lockdownAction handles the Site screen's Declare and End forms (behind
// needs). Without
// confirm=yes it answers with a page that asks the officer to confirm; with
// it, it sets the lockdown and redirects to the Site screen, so it works
// without script. When the site cannot agree, the Site screen says so and
// keeps the reason typed.
func (s *Server) lockdownAction(declare bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		officer, _ := s.actor(r)
		form, ok := s.readForm(w, r)
		if !ok {
			return
		}
		reason := strings.TrimSpace(form.Get("reason"))
		if err := checkNote(reason); err != nil {
			s.renderMessage(w, r, http.StatusBadRequest, "Reason too long", "Nothing was changed: "+strings.Replace(err.Error(), "note", "reason", 1)+".")
			return
		}
		if form.Get("confirm") != "yes" {
			h := s.header(s.view())
			s.render(w, r, http.StatusOK, lockdownConfirm(lockdownConfirmPage{
				Header: h, Declare: declare, Reason: reason, Officer: officer.ID, Current: h.Site.Lockdown,
			}))
			return
		}
		if err := s.setLockdown(r.Context(), officer, declare, reason); err != nil {
			v := s.view()
			h := s.header(v)
			h.Live = liveSite
			p := s.sitePage(v, h, officer)
			p.Problem, p.Reason = lockdownProblem(declare, err), reason
			s.render(w, r, http.StatusServiceUnavailable, siteView(p))
			return
		}
		http.Redirect(w, r, "/site", http.StatusSeeOther)
	}
}
