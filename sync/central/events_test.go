package central

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEventsKeepInStepWithOpenAPI checks that docs/openapi.yaml describes
// the central pull and every field of its page and records.
func TestEventsKeepInStepWithOpenAPI(t *testing.T) {
	b, err := os.ReadFile("../../docs/openapi.yaml")
	require.NoError(t, err)
	doc := string(b)
	require.Contains(t, doc, "\n  /api/v1/site/events:\n")
	i := strings.Index(doc, "\n    SiteEventPage:\n")
	require.Positive(t, i, "the SiteEventPage schema")
	schema := doc[i:]
	if j := strings.Index(schema[1:], "\n    T"); j > 0 {
		schema = schema[:j]
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[EventPage](), reflect.TypeFor[CommittedEvent]()} {
		for f := range typ.Fields() {
			name := strings.Split(f.Tag.Get("json"), ",")[0]
			assert.Contains(t, schema, " "+name+":\n", "%s.%s is documented", typ.Name(), f.Name)
		}
	}
}
