package config

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"wingnode/appliance/event"
	"wingnode/appliance/wing"
)

// Problem is one thing wrong with a configuration file.
type Problem struct {
	File  string
	Line  int
	Field string // empty for problems with the whole line
	Msg   string
}

func (p Problem) Error() string {
	if p.Field == "" {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	}
	return fmt.Sprintf("%s:%d: %s: %s", p.File, p.Line, p.Field, p.Msg)
}

// Problems is every problem found in a file. errors.As finds it in the
// error Load and Parse return.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Load reads and checks the configuration file at path.
func Load(path string) (Wing, error) {
	f, err := os.Open(path)
	if err != nil {
		return Wing{}, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Wing{}, fmt.Errorf("config: %w", err)
	}
	switch {
	case !fi.Mode().IsRegular():
		return Wing{}, fmt.Errorf("config: %s is not a regular file: give the wing's configuration file", path)
	case fi.Size() > maxFile:
		return Wing{}, fmt.Errorf("config: %s is %d bytes; a wing's configuration is at most %d", path, fi.Size(), maxFile)
	}
	return Parse(path, f)
}

// Limits on what Parse reads: a line, a file, and the problems it lists
// before it stops.
const (
	maxLine     = 4096
	maxFile     = 4 << 20
	maxProblems = 100
)

// Parse reads a configuration from r; name is used in messages.
func Parse(name string, r io.Reader) (Wing, error) {
	p := parser{file: name, w: Wing{Source: name}, ids: map[string]int{}, pins: map[string]string{}, devices: map[string]claimedDevice{}}
	lr := &io.LimitedReader{R: r, N: maxFile + 1}
	sc := bufio.NewScanner(lr)
	sc.Buffer(make([]byte, 0, 1024), maxLine)
	for sc.Scan() {
		p.line++
		p.record(sc.Text())
		if len(p.problems) >= maxProblems {
			p.add("", "stopped after %d problems: is this a wing configuration file?", maxProblems)
			return Wing{}, p.problems
		}
	}
	if lr.N <= 0 {
		p.add("", "more than %d bytes: a wing's configuration is smaller; is this the right file?", maxFile)
		return Wing{}, p.problems
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			p.add("", "line longer than %d bytes", maxLine)
		} else {
			return Wing{}, fmt.Errorf("config: read %s: %w", name, err)
		}
	}
	p.finish()
	if len(p.problems) > 0 {
		return Wing{}, p.problems
	}
	return p.w, nil
}

type parser struct {
	file     string
	line     int
	w        Wing
	wingLine int
	ids      map[string]int           // point id → line
	pins     map[string]string        // pin or ADC channel → "door A1-01 (line 4)"
	devices  map[string]claimedDevice // "i2c BUS/ADDR" → what answers there
	problems Problems
}

func (p *parser) add(field, format string, args ...any) {
	p.problems = append(p.problems, Problem{File: p.file, Line: p.line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) record(text string) {
	fields, err := split(text)
	if err != nil {
		p.add("", "%v", err)
		return
	}
	if len(fields) == 0 {
		return
	}
	kind, rest := fields[0], fields[1:]
	values := map[string]string{}
	for _, f := range rest {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			p.add("", "%q is not a key=value field", f)
			return
		}
		if _, dup := values[k]; dup {
			p.add(k, "given twice")
			return
		}
		values[k] = v
	}
	r := fieldReader{p: p, values: values}
	switch kind {
	case "wing":
		p.wing(&r)
	case "door":
		p.door(&r)
	case "alarm":
		p.alarm(&r)
	case "sensor":
		p.sensor(&r)
	case "output":
		p.output(&r)
	case "regime":
		p.regime(&r)
	default:
		p.add("", "unknown record %q (want wing, door, alarm, sensor, output or regime)", kind)
		return
	}
	for _, k := range slices.Sorted(maps.Keys(values)) {
		if !r.used[k] {
			p.add(k, "unknown field for a %s record", kind)
		}
	}
}

func (p *parser) wing(r *fieldReader) {
	if p.wingLine != 0 {
		p.add("", "second wing record (the first is on line %d)", p.wingLine)
		r.skip()
		return
	}
	p.wingLine = p.line
	p.w.ID = r.id("id")
	p.w.Name = r.optional("name", "")
	if p.w.Name == "" && p.w.ID != "" {
		p.w.Name = p.w.ID + " wing"
	}
	p.w.ProveEvery = DefaultProveEvery
	if v, ok := r.get("prove_days"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 3650 {
			r.p.add("prove_days", "%q must be a whole number of days from 1 to 3650", v)
		} else {
			p.w.ProveEvery = time.Duration(n) * 24 * time.Hour
		}
	}
	p.w.EscalateUnacknowledged = r.duration("escalate_ack", DefaultEscalateUnacknowledged, 10*time.Second, time.Hour)
	p.w.EscalateUnattended = r.duration("escalate_attend", DefaultEscalateUnattended, time.Minute, 2*time.Hour)
	p.w.WalkPace = r.duration("walk_pace", DefaultWalkPace, time.Second, time.Minute)
	p.w.Outcomes = DefaultOutcomes()
	if v, ok := r.get("outcomes"); ok {
		var outs []string
		for _, o := range strings.Split(v, ",") {
			switch {
			case !event.ValidID(o):
				r.p.add("outcomes", "%q is not an outcome id (letters, digits, '.', '-', '_'; e.g. assistance-given)", o)
			case slices.Contains(outs, o):
				r.p.add("outcomes", "%s is listed twice", o)
			default:
				outs = append(outs, o)
			}
		}
		if len(outs) > 0 {
			p.w.Outcomes = outs
		}
	}
	p.w.SignOutIdle = DefaultSignOutIdle
	if v, ok := r.get("signout_idle"); ok {
		d, err := time.ParseDuration(v)
		if err != nil || d < 10*time.Second || d > 8*time.Hour {
			r.p.add("signout_idle", "%q must be a duration from 10s to 8h, such as 2m", v)
		} else {
			p.w.SignOutIdle = d
		}
	}
	if v, ok := r.get("hosts"); ok {
		for h := range strings.SplitSeq(v, ",") {
			h = strings.ToLower(strings.TrimSpace(h))
			if !validHost(h) {
				r.p.add("hosts", "%q is not a host name or address (such as b-wing.site.lan or 10.1.2.3, without a port)", h)
				continue
			}
			p.w.Hosts = append(p.w.Hosts, h)
		}
	}
}

// regime reads a daily regime change: regime at=HH:MM mode=unlock|lockup|night.
func (p *parser) regime(r *fieldReader) {
	var sr wing.ScheduledRegime
	v, ok := r.get("at")
	hh, mm, okTime := strings.Cut(v, ":")
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	switch {
	case !ok || v == "":
		p.add("at", "missing: the time of day the regime starts, such as 19:45")
	case !okTime || len(hh) != 2 || len(mm) != 2 || err1 != nil || err2 != nil || h > 23 || m > 59 || h < 0 || m < 0:
		p.add("at", "%q is not a time of day HH:MM, such as 19:45", v)
	default:
		sr.At = time.Duration(h)*time.Hour + time.Duration(m)*time.Minute
	}
	names := make([]string, 0, 3)
	for _, g := range wing.Regimes() {
		names = append(names, string(g))
	}
	sr.Regime = wing.Regime(r.oneOf("mode", "", names))
	if sr.Regime == "" || !ok {
		return
	}
	if slices.ContainsFunc(p.w.Schedule, func(o wing.ScheduledRegime) bool { return o.At == sr.At }) {
		p.add("at", "%s already starts another regime", v)
		return
	}
	p.w.Schedule = append(p.w.Schedule, sr).Sorted()
}

// validHost reports whether h is a DNS name or an IP address.
func validHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	if h == "" || len(h) > 253 {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

func (p *parser) door(r *fieldReader) {
	d := Door{Line: p.line}
	d.ID = r.id("id")
	d.Kind = DoorKind(r.oneOf("kind", "", doorKindNames()))
	d.Landing = r.optional("landing", "")
	d.Name = r.optional("name", d.ID)
	d.Input = r.input(false)
	p.point("door", d.ID, d.Input)
	if pin, ok := r.get("lock"); ok {
		lock := Input{Pull: d.Input.Pull, Debounce: d.Input.Debounce, ActiveLow: true}
		if r.pin("lock", pin) {
			lock.Pin = pin
			lock.ActiveLow = r.oneOf("lock_active", "low", []string{"high", "low"}) == "low"
			p.wire("lock", fmt.Sprintf("lock contact of door %s (line %d)", d.ID, p.line), lock)
			d.Lock = &lock
		}
	} else if _, ok := r.get("lock_active"); ok {
		p.add("lock_active", "given without a lock contact (lock=PIN)")
	}
	d.HeldOpen = DefaultHeldOpen(d.Kind)
	if v, ok := r.get("held_open"); ok {
		if v == "off" {
			d.HeldOpen = 0
		} else if h, err := time.ParseDuration(v); err != nil || h < 10*time.Second || h > 24*time.Hour {
			p.add("held_open", "%q must be a duration from 10s to 24h, such as 5m, or off", v)
		} else {
			d.HeldOpen = h
		}
	}
	p.landing(d.Landing)
	p.w.Doors = append(p.w.Doors, d)
}

func (p *parser) alarm(r *fieldReader) {
	a := AlarmPoint{Line: p.line}
	a.ID = r.id("id")
	a.Kind = AlarmPointKind(r.oneOf("kind", "", alarmKindNames()))
	a.Cell = r.optional("cell", "")
	a.Landing = r.optional("landing", "")
	a.Name = r.optional("name", a.ID)
	a.Priority = r.priority(DefaultPriority(a.Kind))
	a.Input = r.input(true)
	if a.Kind == CellCall && a.Cell == "" && r.used["kind"] {
		p.add("cell", "a cell-call needs the cell door it belongs to")
	}
	p.point("alarm point", a.ID, a.Input)
	if pin, ok := r.get("reset"); ok {
		reset := Input{Pull: PullUp, Debounce: DefaultButtonDebounce, ActiveLow: true}
		switch {
		case a.Kind != CellCall && r.used["kind"]:
			p.add("reset", "only a cell call has a reset key switch at its cell door")
		case r.pin("reset", pin):
			reset.Pin = pin
			reset.ActiveLow = r.oneOf("reset_active", "low", []string{"high", "low"}) == "low"
			p.wire("reset", fmt.Sprintf("reset key switch of %s (line %d)", a.ID, p.line), reset)
			a.Reset = &reset
		}
	} else if _, ok := r.get("reset_active"); ok {
		p.add("reset_active", "given without a reset key switch (reset=PIN)")
	}
	p.landing(a.Landing)
	p.w.AlarmPoints = append(p.w.AlarmPoints, a)
}

// point claims an id and the input's wiring for one door, alarm point,
// sensor or output.
func (p *parser) point(what, id string, in Input) {
	p.claimID(id)
	field := "pin"
	if in.ADC != nil {
		field = "adc"
	}
	p.wire(field, fmt.Sprintf("%s %s (line %d)", what, id, p.line), in)
}

func (p *parser) claimID(id string) {
	if id == "" {
		return
	}
	if line, dup := p.ids[id]; dup {
		p.add("id", "%s is already used on line %d", id, line)
	} else {
		p.ids[id] = p.line
	}
}

// wire claims a GPIO line or ADC channel; each may be wired to one thing only.
func (p *parser) wire(field, owner string, in Input) {
	key := in.Pin
	if in.ADC != nil {
		key = "adc " + in.ADC.String()
		p.device(field, in.ADC.Bus, in.ADC.Addr, "adc", owner)
	}
	if key == "" {
		return
	}
	if other, dup := p.pins[key]; dup {
		p.add(field, "%s is already wired to %s", in.Wiring(), other)
	} else {
		p.pins[key] = owner
	}
}

// device claims an I2C address for one kind of device: two kinds of
// device cannot answer at one address on one bus.
func (p *parser) device(field, bus string, addr uint16, kind, owner string) {
	key := fmt.Sprintf("i2c %s/0x%02x", bus, addr)
	if other, ok := p.devices[key]; ok && other.kind != kind {
		p.add(field, "I2C bus %s address 0x%02x is already used by %s", bus, addr, other.owner)
	} else if !ok {
		p.devices[key] = claimedDevice{kind, owner}
	}
}

type claimedDevice struct{ kind, owner string }

func (p *parser) landing(name string) {
	if name != "" && !slices.Contains(p.w.Landings, name) {
		p.w.Landings = append(p.w.Landings, name)
	}
}

func (p *parser) sensor(r *fieldReader) {
	sn := Sensor{Line: p.line}
	sn.ID = r.id("id")
	sn.Kind = SensorKind(r.oneOf("kind", "", []string{string(SHT3x)}))
	sn.Name = r.optional("name", sn.ID)
	sn.Landing = r.optional("landing", "")
	sn.Cell = r.optional("cell", "")
	sn.Bus = r.optional("bus", "")
	if sn.Bus == "" {
		p.add("bus", "missing: the I2C bus the sensor is on, such as 1")
	}
	if v, ok := r.get("addr"); !ok {
		p.add("addr", "missing: the sensor's I2C address, 0x44 or 0x45")
	} else if a, ok := r.address("addr", v, 0x44, 0x45); ok {
		sn.Addr = a
	}
	sn.HotAboveC = r.limit("hot", -40, 125)
	sn.ColdBelowC = r.limit("cold", -40, 125)
	sn.HumidAbove = r.limit("humid", 0, 100)
	if sn.HotAboveC != nil && sn.ColdBelowC != nil && *sn.ColdBelowC >= *sn.HotAboveC {
		p.add("cold", "%g°C is not below hot=%g°C", *sn.ColdBelowC, *sn.HotAboveC)
	}
	p.claimID(sn.ID)
	if sn.Bus != "" && sn.Addr != 0 {
		key := fmt.Sprintf("sensor %s/0x%02x", sn.Bus, sn.Addr)
		owner := fmt.Sprintf("sensor %s (line %d)", sn.ID, p.line)
		if other, dup := p.pins[key]; dup {
			p.add("addr", "bus %s address 0x%02x is already used by %s", sn.Bus, sn.Addr, other)
		} else {
			p.pins[key] = owner
			p.device("addr", sn.Bus, sn.Addr, string(sn.Kind), owner)
		}
	}
	p.landing(sn.Landing)
	p.w.Sensors = append(p.w.Sensors, sn)
}

func (p *parser) output(r *fieldReader) {
	o := Output{Line: p.line}
	o.ID = r.id("id")
	o.Kind = OutputKind(r.oneOf("kind", "", outputKindNames()))
	o.Name = r.optional("name", o.ID)
	if pin, ok := r.get("pin"); !ok || pin == "" {
		p.add("pin", "missing: name the GPIO line this output drives")
	} else if r.pin("pin", pin) {
		o.Pin = pin
	}
	o.ActiveLow = r.oneOf("active", "high", []string{"high", "low"}) == "low"
	p.point("output", o.ID, Input{Pin: o.Pin})
	p.w.Outputs = append(p.w.Outputs, o)
}

func outputKindNames() []string {
	kinds := OutputKinds()
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = string(k)
	}
	return out
}

// finish checks what needs the whole file: a wing record, and cell calls
// that name existing cells.
func (p *parser) finish() {
	end := p.line
	if p.wingLine == 0 {
		p.line = 1
		p.add("", "no wing record: the file must name its wing, e.g. 'wing id=A name=\"A wing\"'")
	}
	for _, a := range p.w.AlarmPoints {
		if a.Cell == "" {
			continue
		}
		p.line = a.Line
		i := slices.IndexFunc(p.w.Doors, func(d Door) bool { return d.ID == a.Cell })
		switch {
		case i < 0:
			p.add("cell", "no door %s in this file", a.Cell)
		case p.w.Doors[i].Kind != CellDoor:
			p.add("cell", "door %s is a %s, not a cell", a.Cell, p.w.Doors[i].Kind)
		}
	}
	for _, sn := range p.w.Sensors {
		if sn.Cell == "" {
			continue
		}
		p.line = sn.Line
		if !slices.ContainsFunc(p.w.Doors, func(d Door) bool { return d.ID == sn.Cell && d.Kind == CellDoor }) {
			p.add("cell", "no cell door %s in this file", sn.Cell)
		}
	}
	if len(p.w.Doors)+len(p.w.AlarmPoints) == 0 && p.wingLine != 0 {
		p.line = p.wingLine
		p.add("", "the wing has no doors and no alarm points")
	}
	p.line = end
	slices.SortStableFunc(p.problems, func(a, b Problem) int { return a.Line - b.Line })
}

type fieldReader struct {
	p      *parser
	values map[string]string
	used   map[string]bool
}

func (r *fieldReader) get(k string) (string, bool) {
	if r.used == nil {
		r.used = map[string]bool{}
	}
	r.used[k] = true
	v, ok := r.values[k]
	return v, ok
}

// skip marks every field as read, for a record refused as a whole.
func (r *fieldReader) skip() {
	for k := range r.values {
		r.get(k)
	}
}

func (r *fieldReader) optional(k, def string) string {
	if v, ok := r.get(k); ok && v != "" {
		return v
	}
	return def
}

func (r *fieldReader) id(k string) string {
	v, ok := r.get(k)
	switch {
	case !ok || v == "":
		r.p.add(k, "missing")
	case !event.ValidID(v):
		r.p.add(k, "%q must be 1 to 64 letters, digits, '.', '-' or '_', starting with a letter or digit", v)
	default:
		return v
	}
	return ""
}

func (r *fieldReader) oneOf(k, def string, valid []string) string {
	v, ok := r.get(k)
	switch {
	case (!ok || v == "") && def != "":
		return def
	case !ok || v == "":
		r.p.add(k, "missing (one of %s)", strings.Join(valid, ", "))
	case !slices.Contains(valid, v):
		r.p.add(k, "unknown %s %q (want one of %s)", k, v, strings.Join(valid, ", "))
	default:
		return v
	}
	return ""
}

// duration reads an optional duration from lo to hi.
func (r *fieldReader) duration(k string, def, lo, hi time.Duration) time.Duration {
	v, ok := r.get(k)
	if !ok || v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < lo || d > hi {
		r.p.add(k, "%q must be a duration from %s to %s", v, lo, hi)
		return def
	}
	return d
}

func (r *fieldReader) priority(def int) int {
	v, ok := r.get("priority")
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 9 {
		r.p.add("priority", "%q must be a whole number from 1 (most urgent) to 9", v)
		return def
	}
	return n
}

func (r *fieldReader) input(button bool) Input {
	in := Input{Pull: PullUp, Debounce: DefaultDebounce, ActiveLow: button}
	if button {
		in.Debounce = DefaultButtonDebounce
	}
	pin, hasPin := r.get("pin")
	adc, hasADC := r.get("adc")
	switch {
	case hasPin && hasADC:
		r.p.add("adc", "give pin (a plain input) or adc (a supervised line), not both")
	case hasADC:
		if c, ok := r.adc("adc", adc); ok {
			in.ADC = &c
		}
	case !hasPin || pin == "":
		r.p.add("pin", "missing: name the GPIO line this input is wired to (or adc=BUS/ADDR/CHANNEL for a supervised line)")
	case r.pin("pin", pin):
		in.Pin = pin
	}
	def := "high"
	if button {
		def = "low"
	}
	in.ActiveLow = r.oneOf("active", def, []string{"high", "low"}) == "low"
	if p := r.oneOf("pull", string(PullUp), []string{string(PullUp), string(PullDown), string(PullNone)}); p != "" {
		in.Pull = Pull(p)
	}
	if v, ok := r.get("debounce"); ok {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Millisecond || d > 5*time.Second {
			r.p.add("debounce", "%q must be a duration from 1ms to 5s, such as 20ms", v)
		} else {
			in.Debounce = d
		}
	}
	if v, ok := r.get("stuck_after"); ok {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute {
			r.p.add("stuck_after", "%q must be a duration of at least 1m, such as 72h", v)
		} else {
			in.StuckAfter = d
		}
	}
	return in
}

// pin checks a GPIO line's name: a registry name, or CHIP/LINE.
func (r *fieldReader) pin(field, v string) bool {
	if v == "" || strings.ContainsAny(v, " \t=\"") {
		r.p.add(field, "%q is not a pin name", v)
		return false
	}
	if chip, line, ok := strings.Cut(v, "/"); ok {
		if n, err := strconv.Atoi(line); chip == "" || err != nil || n < 0 {
			r.p.add(field, "%q is not CHIP/LINE, such as gpiochip0/17", v)
			return false
		}
	}
	return true
}

// adc parses BUS/ADDR/CHANNEL, such as 1/0x48/2.
func (r *fieldReader) adc(field, v string) (ADCChannel, bool) {
	parts := strings.Split(v, "/")
	if len(parts) != 3 || parts[0] == "" {
		r.p.add(field, "%q is not BUS/ADDR/CHANNEL, such as 1/0x48/2", v)
		return ADCChannel{}, false
	}
	addr, ok := r.address(field, parts[1], 0x48, 0x4b)
	ch, err := strconv.Atoi(parts[2])
	if err != nil || ch < 0 || ch > 3 {
		r.p.add(field, "channel %q must be 0 to 3", parts[2])
		return ADCChannel{}, false
	}
	return ADCChannel{Bus: parts[0], Addr: addr, Channel: ch}, ok
}

// address parses an I2C address in hex (0x48) within [lo, hi].
func (r *fieldReader) address(field, v string, lo, hi uint16) (uint16, bool) {
	n, err := strconv.ParseUint(v, 0, 16)
	if err != nil || uint16(n) < lo || uint16(n) > hi {
		r.p.add(field, "address %q must be from 0x%02x to 0x%02x", v, lo, hi)
		return 0, false
	}
	return uint16(n), true
}

func (r *fieldReader) limit(field string, lo, hi float64) *float64 {
	v, ok := r.get(field)
	if !ok {
		return nil
	}
	f, err := strconv.ParseFloat(strings.TrimRight(v, "C%"), 64)
	if err != nil || f < lo || f > hi {
		r.p.add(field, "%q must be a number from %g to %g", v, lo, hi)
		return nil
	}
	return &f
}

func doorKindNames() []string {
	kinds := DoorKinds()
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = string(k)
	}
	return out
}

func alarmKindNames() []string {
	kinds := AlarmPointKinds()
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = string(k)
	}
	return out
}

// split breaks a line into fields at spaces outside double quotes and
// drops a trailing comment.
func split(line string) ([]string, error) {
	var fields []string
	var cur strings.Builder
	inQuote, have := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '"':
			inQuote, have = !inQuote, true
		case inQuote:
			cur.WriteByte(c)
		case c == '#':
			i = len(line)
		case c == ' ' || c == '\t':
			if have {
				fields = append(fields, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteByte(c)
			have = true
		}
	}
	if inQuote {
		return nil, errors.New("unterminated quote")
	}
	if have {
		fields = append(fields, cur.String())
	}
	return fields, nil
}
