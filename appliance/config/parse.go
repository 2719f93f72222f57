package config

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
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
	return Parse(path, f)
}

// maxLine bounds one line of a configuration file.
const maxLine = 4096

// Parse reads a configuration from r; name is used in messages.
func Parse(name string, r io.Reader) (Wing, error) {
	p := parser{file: name, w: Wing{Source: name}, ids: map[string]int{}, pins: map[string]string{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1024), maxLine)
	for sc.Scan() {
		p.line++
		p.record(sc.Text())
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
	ids      map[string]int    // point id → line
	pins     map[string]string // pin → "door A1-01 (line 4)"
	problems Problems
}

func (p *parser) add(field, format string, args ...any) {
	p.problems = append(p.problems, Problem{File: p.file, Line: p.line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

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
	default:
		p.add("", "unknown record %q (want wing, door or alarm)", kind)
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
}

func (p *parser) door(r *fieldReader) {
	d := Door{Line: p.line}
	d.ID = r.id("id")
	d.Kind = DoorKind(r.oneOf("kind", "", doorKindNames()))
	d.Landing = r.optional("landing", "")
	d.Name = r.optional("name", d.ID)
	d.Input = r.input(false)
	p.point("door", d.ID, d.Input.Pin)
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
	a.Priority = r.priority(DefaultPriority[a.Kind])
	a.Input = r.input(true)
	if a.Kind == CellCall && a.Cell == "" && r.used["kind"] {
		p.add("cell", "a cell-call needs the cell door it belongs to")
	}
	p.point("alarm point", a.ID, a.Input.Pin)
	p.landing(a.Landing)
	p.w.AlarmPoints = append(p.w.AlarmPoints, a)
}

func (p *parser) point(what, id, pin string) {
	if id != "" {
		if line, dup := p.ids[id]; dup {
			p.add("id", "%s is already used on line %d", id, line)
		} else {
			p.ids[id] = p.line
		}
	}
	if pin != "" {
		if other, dup := p.pins[pin]; dup {
			p.add("pin", "%s is already wired to %s", pin, other)
		} else {
			p.pins[pin] = fmt.Sprintf("%s %s (line %d)", what, id, p.line)
		}
	}
}

func (p *parser) landing(name string) {
	if name != "" && !slices.Contains(p.w.Landings, name) {
		p.w.Landings = append(p.w.Landings, name)
	}
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
	case !idPattern.MatchString(v):
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
	pin, ok := r.get("pin")
	if !ok || pin == "" {
		r.p.add("pin", "missing: name the GPIO line this input is wired to")
	} else if strings.ContainsAny(pin, " \t=\"") {
		r.p.add("pin", "%q is not a pin name", pin)
	} else {
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
	return in
}

func doorKindNames() []string {
	out := make([]string, len(DoorKinds))
	for i, k := range DoorKinds {
		out[i] = string(k)
	}
	return out
}

func alarmKindNames() []string {
	out := make([]string, len(AlarmPointKinds))
	for i, k := range AlarmPointKinds {
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
