package wing

import (
	"strconv"
	"strings"

	"wingnode/appliance/event"
)

// A walk test's points are recorded comma-separated in its start's data
// "points"; a list longer than one data value holds (a landing of the
// built-in wing has 42 inputs) goes on in "points.2", "points.3", and so
// on, each value at most event.MaxStringLen bytes.

// PointsData returns the data fields that record points.
func PointsData(points []string) map[string]string {
	out := map[string]string{}
	n := 1
	var b strings.Builder
	flush := func() {
		if b.Len() == 0 {
			return
		}
		key := "points"
		if n > 1 {
			key += "." + strconv.Itoa(n)
		}
		out[key] = b.String()
		b.Reset()
		n++
	}
	for _, p := range points {
		if b.Len() > 0 && b.Len()+1+len(p) > event.MaxStringLen {
			flush()
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(p)
	}
	flush()
	return out
}

// PointsOf reads the points that data records, in order; none when it
// records none (a walk test of every input).
func PointsOf(data map[string]string) []string {
	var out []string
	for n := 1; ; n++ {
		key := "points"
		if n > 1 {
			key += "." + strconv.Itoa(n)
		}
		v, ok := data[key]
		if !ok || v == "" {
			return out
		}
		out = append(out, strings.Split(v, ",")...)
	}
}
