package scenario

import (
	"regexp"
	"strings"
	"testing"
)

// FuzzParse checks that any input parses, or fails with errors that each
// name the scenario and, but for an empty one, a line.
func FuzzParse(f *testing.F) {
	for _, tt := range stepCases {
		f.Add(tt.line + "\n")
	}
	for _, tt := range errorCases {
		if len(tt.text) < 1000 { // long inputs slow the fuzzer down to a crawl
			f.Add(tt.text)
		}
	}
	f.Add(defaultText)
	errorLine := regexp.MustCompile(`^f\.scenario:[1-9][0-9]*: .`)
	f.Fuzz(func(t *testing.T, text string) {
		s, err := Parse("f.scenario", strings.NewReader(text))
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !errorLine.MatchString(line) && line != "f.scenario: no steps" {
					t.Fatalf("an error without its line: %q", line)
				}
			}
			return
		}
		for i, st := range s.steps {
			if i > 0 && st.at < s.steps[i-1].at {
				t.Fatalf("line %d goes back in time", st.line)
			}
			if s.repeat > 0 && st.end() > s.repeat {
				t.Fatalf("line %d lasts past the repeat", st.line)
			}
		}
		if err := s.Check(Points{}); err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !errorLine.MatchString(line) {
					t.Fatalf("a check error without its line: %q", line)
				}
			}
		}
	})
}
