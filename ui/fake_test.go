package ui

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/config"
	"wingnode/appliance/event"
	"wingnode/appliance/roster"
	"wingnode/appliance/wing"
)

// testNow is the fake wing's clock at the start of every test.
var testNow = time.Date(2026, time.March, 2, 10, 0, 0, 0, time.UTC)

// testOfficer is the supervisor the tests act as (see signIn).
const testOfficer = "officer-test"

// testLayout is a small wing: two landings of cells with their cell-call
// points, a gate, an office and a staff alarm.
func testLayout() config.Wing {
	return config.Wing{
		ID: "A", Name: "A wing", Landings: []string{"1", "2"}, Outcomes: config.DefaultOutcomes(),
		Doors: []config.Door{
			{ID: "A1-01", Kind: config.CellDoor, Landing: "1"},
			{ID: "A1-02", Kind: config.CellDoor, Landing: "1"},
			{ID: "A-GATE1", Name: "Gate 1", Kind: config.LandingGate, Landing: "1"},
			{ID: "A1-03", Kind: config.CellDoor, Landing: "1"},
			{ID: "A2-01", Kind: config.CellDoor, Landing: "2"},
			{ID: "A-OFFICE", Name: "Office", Kind: config.OfficeDoor},
		},
		AlarmPoints: []config.AlarmPoint{
			{ID: "A1-01-CALL", Name: "Cell A1-01 call", Kind: config.CellCall, Landing: "1", Cell: "A1-01", Priority: 2},
			{ID: "A1-02-CALL", Name: "Cell A1-02 call", Kind: config.CellCall, Landing: "1", Cell: "A1-02", Priority: 2},
			{ID: "A-STAFF", Name: "Office staff alarm", Kind: config.StaffAlarm, Priority: 1},
		},
	}
}

// fittedLayout is testLayout with lock contacts on A1-01 and the gate, and
// two environment sensors: one with every limit, one with none.
func fittedLayout() config.Wing {
	w := testLayout()
	w.Doors[0].Lock = &config.Input{Pin: "GPIO20"}
	w.Doors[2].Lock = &config.Input{Pin: "GPIO21"}
	hot, cold, humid := 28.0, 16.0, 70.0
	w.Sensors = []config.Sensor{
		{ID: "ENV-1", Name: "Landing 1", Kind: config.SHT3x, Landing: "1", HotAboveC: &hot, ColdBelowC: &cold, HumidAbove: &humid},
		{ID: "ENV-2", Kind: config.SHT3x, Landing: "2"},
	}
	w.ProveEvery = 7 * 24 * time.Hour
	return w
}

// fakeWing is an in-memory appliance: events are folded into a
// wing.State, kept as store records and sent to subscribers.
type fakeWing struct {
	mu          sync.Mutex
	layout      config.Wing
	state       *wing.State
	records     []event.Record
	seq         map[string]uint64
	hlc         event.HLC
	now         time.Time
	subs        map[int]chan *event.Event
	nextSub     int
	queryErr    error
	recording   error            // what Recording reports
	walkErr     error            // returned by StartWalkTest and EndWalkTest
	climate     []ClimateReading // returned by Climate
	site        *SiteStatus      // returned by Site; nil: a wing on its own
	lockdownErr error            // returned by SetLockdown
	readings    map[string]bool  // returned by Reading; absent: not known
	shiftErr    error            // returned by the shift's actions (shift_fake_test.go)

	officers officers // the roster and sign-ins (signin_fake_test.go)
}

func newFakeWing() *fakeWing {
	return &fakeWing{
		layout: testLayout(), state: wing.New(), seq: map[string]uint64{},
		now: testNow, subs: map[int]chan *event.Event{},
	}
}

// record appends an event of wing A stamped one second after the
// previous one, with a trusted clock.
func (f *fakeWing) record(kind event.Kind, subject, actor string, data map[string]string) event.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(time.Second)
	return f.addLocked(event.Event{Wing: "A", Wall: f.now, ClockTrusted: true, Kind: kind, Subject: subject, Actor: actor, Data: data})
}

// add appends e as given, with the next seq of its wing and the next HLC.
func (f *fakeWing) add(e event.Event) event.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addLocked(e)
}

func (f *fakeWing) addLocked(e event.Event) event.Event {
	f.seq[e.Wing]++
	e.Seq = f.seq[e.Wing]
	// Like event.Clock: the HLC never goes back, even when the wall clock does.
	if pt := e.Wall.UnixNano(); pt > f.hlc.WallNanos {
		f.hlc = event.HLC{WallNanos: pt}
	} else {
		f.hlc.Logical++
	}
	e.HLC = f.hlc
	f.state.Fold(e)
	f.records = append(f.records, event.Record{Pos: uint64(len(f.records) + 1), Event: e})
	for id, ch := range f.subs {
		select {
		case ch <- &e:
		default: // fell behind, as the appliance treats a slow screen
			close(ch)
			delete(f.subs, id)
		}
	}
	return e
}

// ago returns a wall time d before the fake's clock.
func (f *fakeWing) ago(d time.Duration) time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now.Add(-d)
}

func (f *fakeWing) raise(point, kind string, priority int) event.ID {
	e := f.record(event.AlarmRaised, point, event.SystemActor, map[string]string{"point_kind": kind, "priority": strconv.Itoa(priority)})
	return e.ID()
}

func (f *fakeWing) Layout() config.Wing { return f.layout }

func (f *fakeWing) State() *wing.State {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state.Clone()
}

func (f *fakeWing) Query(ctx context.Context, q event.Query) (event.Page, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.queryErr != nil {
		return event.Page{}, f.queryErr
	}
	var match []event.Record
	for _, r := range slices.Backward(f.records) {
		if q.Matches(r.Event) {
			match = append(match, r)
		}
	}
	skip := 0
	if q.Cursor != "" {
		var err error
		if skip, err = strconv.Atoi(q.Cursor); err != nil {
			return event.Page{}, fmt.Errorf("fake: %w: %q", event.ErrBadCursor, q.Cursor)
		}
	}
	limit := cmp.Or(q.Limit, 100)
	match = match[min(skip, len(match)):]
	var next string
	if len(match) > limit {
		match, next = match[:limit], strconv.Itoa(skip+limit)
	}
	return event.Page{Records: match, Next: next}, nil
}

func (f *fakeWing) Tail(ctx context.Context, after uint64, limit int) ([]event.Record, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []event.Record
	for _, r := range f.records {
		if r.Pos > after && len(out) < limit {
			out = append(out, r)
		}
	}
	return out, nil
}

func (f *fakeWing) Acknowledge(ctx context.Context, id event.ID, by roster.Actor) error {
	return f.act(event.AlarmAcknowledged, id, by.ID, nil, nil)
}

func (f *fakeWing) Attend(ctx context.Context, id event.ID, by roster.Actor) error {
	return f.act(event.AlarmAttended, id, by.ID, map[string]string{"how": wing.AttendedFromPanel, "where": "panel"}, wing.Alarm.CanAttendFromPanel)
}

func (f *fakeWing) Resolve(ctx context.Context, id event.ID, by roster.Actor, outcome, note string) error {
	data := map[string]string{"outcome": outcome}
	if note != "" {
		data["note"] = note
	}
	return f.act(event.AlarmResolved, id, by.ID, data, wing.Alarm.CanResolve)
}

func (f *fakeWing) CloseRemotely(ctx context.Context, id event.ID, by roster.Actor, reason string) error {
	return f.act(event.AlarmClosedRemotely, id, by.ID, map[string]string{"reason": reason}, nil)
}

// act records an alarm's step, as the appliance does, when the alarm can
// take it (and rule, when given, allows it).
func (f *fakeWing) act(kind event.Kind, id event.ID, officer string, data map[string]string, rule func(wing.Alarm) error) error {
	f.mu.Lock()
	a, err := f.state.Actionable(id)
	f.mu.Unlock()
	if err == nil && rule != nil {
		err = rule(a)
	}
	if err != nil {
		return err
	}
	if data == nil {
		data = map[string]string{}
	}
	data["alarm"] = id.String()
	f.record(kind, a.Point, officer, data)
	return nil
}

// StartWalkTest records walktest.started, as the appliance does, over
// the points chosen: a landing's doors and points, or a list of them.
func (f *fakeWing) StartWalkTest(ctx context.Context, by roster.Actor, d time.Duration, points wing.WalkTestPoints) error {
	if f.walkErr != nil {
		return f.walkErr
	}
	until := f.ago(-time.Second - d).UTC().Format(time.RFC3339) // stamped one second on, by record
	data := map[string]string{"until": until}
	var chosen []string
	for _, dr := range f.layout.Doors {
		if points.Landing != "" && dr.Landing == points.Landing || slices.Contains(points.Points, dr.ID) {
			chosen = append(chosen, dr.ID)
		}
	}
	for _, p := range f.layout.AlarmPoints {
		if points.Landing != "" && p.Landing == points.Landing || slices.Contains(points.Points, p.ID) {
			chosen = append(chosen, p.ID)
		}
	}
	if len(chosen) < len(points.Points) {
		return fmt.Errorf("%w: wing A has no door or alarm point %q", ErrBadInput, points.Points[len(points.Points)-1])
	}
	if len(chosen) > 0 {
		data["points"] = strings.Join(chosen, ",")
	}
	if points.Landing != "" {
		data["landing"] = points.Landing
	}
	f.record(event.WalkTestStarted, "A", by.ID, data)
	return nil
}

// EndWalkTest records walktest.ended if a walk test is running.
func (f *fakeWing) EndWalkTest(ctx context.Context, by roster.Actor) error {
	if f.walkErr != nil {
		return f.walkErr
	}
	f.mu.Lock()
	w, ok := f.state.WalkTests["A"]
	running := ok && w.Running(f.now)
	f.mu.Unlock()
	if running {
		f.record(event.WalkTestEnded, "A", by.ID, nil)
	}
	return nil
}

// SetRegime records regime.set, as the appliance does.
func (f *fakeWing) SetRegime(ctx context.Context, by roster.Actor, regime wing.Regime) error {
	f.record(event.RegimeSet, "A", by.ID, map[string]string{"regime": string(regime)})
	return nil
}

// Reading implements Wing: what setReading said, unknown otherwise.
func (f *fakeWing) Reading(input string) (active, known bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	active, known = f.readings[input]
	return active, known
}

// setReading makes an input read active, as its hardware would.
func (f *fakeWing) setReading(input string, active bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.readings == nil {
		f.readings = map[string]bool{}
	}
	f.readings[input] = active
}

func (f *fakeWing) Climate() []ClimateReading {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.climate)
}

// setClimate replaces the sensors' latest readings.
func (f *fakeWing) setClimate(r ...ClimateReading) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.climate = r
}

// advance moves the fake's clock on without recording anything.
func (f *fakeWing) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

func (f *fakeWing) Subscribe() (<-chan *event.Event, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.nextSub
	f.nextSub++
	ch := make(chan *event.Event, 16)
	f.subs[id] = ch
	return ch, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if ch, ok := f.subs[id]; ok {
			close(ch)
			delete(f.subs, id)
		}
	}
}

// stop closes every subscription, as a stopping appliance does.
func (f *fakeWing) stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, ch := range f.subs {
		close(ch)
		delete(f.subs, id)
	}
}

func (f *fakeWing) subscribers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

func (f *fakeWing) recordCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.records)
}

// lastEvent returns the newest recorded event.
func (f *fakeWing) lastEvent(t *testing.T) event.Event {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.records) == 0 {
		t.Fatal("no event recorded")
	}
	return f.records[len(f.records)-1].Event
}

// serve starts the UI over f; the test server and the UI's live streams
// are closed when the test ends.
func serve(t *testing.T, f *fakeWing) (*Server, *httptest.Server) {
	t.Helper()
	srv := New(f, Options{Version: "1.2.3-test", Now: func() time.Time { return f.ago(0) },
		Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	t.Cleanup(srv.Close) // runs first: open streams end, so ts.Close can return
	return srv, ts
}

// getPage fetches path and parses it as HTML, checking the status.
func getPage(t *testing.T, ts *httptest.Server, path string, wantStatus int) *goquery.Document {
	t.Helper()
	resp, err := http.Get(ts.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != wantStatus {
		t.Fatalf("GET %s: status %d, want %d", path, resp.StatusCode, wantStatus)
	}
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// testIDs lists the data-testid of each match, in document order.
func testIDs(sel *goquery.Selection) []string {
	return sel.Map(func(_ int, s *goquery.Selection) string { return s.AttrOr("data-testid", "") })
}

var errQueryBroken = errors.New("fake: disk on fire")

func (f *fakeWing) Recording() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.recording
}

// Site implements Wing: the status set by a test, or a wing on its own.
func (f *fakeWing) Site() SiteStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.site != nil {
		return *f.site
	}
	return SiteStatus{Wing: f.layout.ID, Leader: f.layout.ID, Wings: []WingLink{{Wing: f.layout.ID, Link: LinkLocal, Voter: true}}}
}

// SetLockdown implements Wing: it sets the lockdown the fake site reports,
// or returns lockdownErr.
func (f *fakeWing) SetLockdown(_ context.Context, by roster.Actor, active bool, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lockdownErr != nil {
		return f.lockdownErr
	}
	if f.site == nil {
		f.site = &SiteStatus{Wing: f.layout.ID, Leader: f.layout.ID, Wings: []WingLink{{Wing: f.layout.ID, Link: LinkLocal, Voter: true}}}
	}
	f.site.Lockdown = wing.Lockdown{Active: active, Reason: reason, By: by.ID, Since: f.now}
	return nil
}

// officer is the actor the tests act as.
func officer(id string) roster.Actor { return roster.Actor{ID: id, Role: roster.Supervisor} }

// ack acknowledges an alarm as officer id.
func (f *fakeWing) ack(t *testing.T, alarm event.ID, id string) {
	t.Helper()
	require.NoError(t, f.Acknowledge(t.Context(), alarm, officer(id)))
}

// resolve resolves an alarm as officer id with the first outcome, as an
// officer would: acknowledged first if it is not, and a cell call first
// attended at its door, as its key switch records it.
func (f *fakeWing) resolve(t *testing.T, alarm event.ID, id, note string) {
	t.Helper()
	f.mu.Lock()
	a := f.state.Alarms[alarm]
	f.mu.Unlock()
	if a.Acknowledged == nil {
		f.ack(t, alarm, id)
	}
	if a.PointKind == wing.CellCall && a.Attended == nil {
		f.record(event.AlarmAttended, a.Point, event.SystemActor, map[string]string{"alarm": alarm.String(), "how": wing.AttendedAtReset, "where": "cell"})
	}
	require.NoError(t, f.Resolve(t.Context(), alarm, officer(id), "assistance-given", note))
}
