package wingtest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// openAPI is docs/openapi.yaml, read once.
var openAPI = sync.OnceValues(func() (map[string]any, error) {
	dir, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil, fmt.Errorf("no go.mod above the test's folder")
		}
		dir = parent
	}
	b, err := os.ReadFile(filepath.Join(dir, "docs", "openapi.yaml"))
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("docs/openapi.yaml: %w", err)
	}
	return doc, nil
})

// Contract checks an answer against docs/openapi.yaml: the path and
// method are described, the status is one of the operation's responses,
// and a JSON body holds to the response's schema, with no property the
// schema does not name. path is the document's path, such as
// /api/v1/alarms/{wing}/{seq}/acknowledge.
func Contract(t testing.TB, method, path string, status int, header http.Header, body []byte) {
	t.Helper()
	doc, err := openAPI()
	if err != nil {
		t.Fatalf("contract: %v", err)
	}
	op, ok := dig(doc, "paths", path, strings.ToLower(method)).(map[string]any)
	if !ok {
		t.Errorf("contract: docs/openapi.yaml does not describe %s %s", method, path)
		return
	}
	resp, ok := dig(op, "responses", fmt.Sprint(status)).(map[string]any)
	if !ok {
		t.Errorf("contract: %s %s answered %d, which docs/openapi.yaml does not list", method, path, status)
		return
	}
	resp = resolve(doc, resp)
	content, _ := resp["content"].(map[string]any)
	ctype, _, _ := strings.Cut(header.Get("Content-Type"), ";")
	if len(content) == 0 {
		return
	}
	media, ok := content[ctype].(map[string]any)
	if !ok {
		t.Errorf("contract: %s %s answered %d with %q, which docs/openapi.yaml does not list for it", method, path, status, ctype)
		return
	}
	schema, _ := media["schema"].(map[string]any)
	if ctype != "application/json" || schema == nil {
		return
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Errorf("contract: %s %s: the body is not JSON: %v", method, path, err)
		return
	}
	for _, p := range validate(doc, schema, v, "body") {
		t.Errorf("contract: %s %s %d: %s", method, path, status, p)
	}
}

func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// resolve follows a $ref within the document.
func resolve(doc, node map[string]any) map[string]any {
	for range 10 {
		ref, ok := node["$ref"].(string)
		if !ok {
			return node
		}
		target, _ := dig(doc, strings.Split(strings.TrimPrefix(ref, "#/"), "/")...).(map[string]any)
		if target == nil {
			return map[string]any{"x-missing": ref}
		}
		node = target
	}
	return node
}

// validate checks a JSON value against a schema and returns the problems.
func validate(doc, schema map[string]any, v any, at string) []string {
	schema = resolve(doc, schema)
	if ref, ok := schema["x-missing"]; ok {
		return []string{fmt.Sprintf("%s: $ref %v is not in the document", at, ref)}
	}
	if v == nil {
		if n, _ := schema["nullable"].(bool); n {
			return nil
		}
		if schema["type"] == "array" || schema["type"] == "object" && schema["additionalProperties"] != nil {
			return nil // Go writes a nil slice or map as null
		}
		return []string{at + ": null, but the schema does not allow it"}
	}
	if enum, ok := schema["enum"].([]any); ok && !slices.Contains(enum, v) {
		return []string{fmt.Sprintf("%s: %v is not one of %v", at, v, enum)}
	}
	var out []string
	switch typ, _ := schema["type"].(string); typ {
	case "object", "":
		m, ok := v.(map[string]any)
		if !ok {
			if typ == "" {
				return nil
			}
			return []string{fmt.Sprintf("%s: %T, want an object", at, v)}
		}
		props, _ := schema["properties"].(map[string]any)
		req, _ := schema["required"].([]any)
		for _, r := range req {
			if _, ok := m[r.(string)]; !ok {
				out = append(out, fmt.Sprintf("%s: required property %q is missing", at, r))
			}
		}
		extra, _ := schema["additionalProperties"].(map[string]any)
		for k, pv := range m {
			if ps, ok := props[k].(map[string]any); ok {
				out = append(out, validate(doc, ps, pv, at+"."+k)...)
			} else if extra != nil {
				out = append(out, validate(doc, extra, pv, at+"."+k)...)
			} else if props != nil || typ == "object" {
				out = append(out, fmt.Sprintf("%s: property %q is not in the schema", at, k))
			}
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %T, want an array", at, v)}
		}
		items, _ := schema["items"].(map[string]any)
		for i, iv := range a {
			if items != nil {
				out = append(out, validate(doc, items, iv, fmt.Sprintf("%s[%d]", at, i))...)
			}
		}
	case "string":
		s, ok := v.(string)
		if !ok {
			return []string{fmt.Sprintf("%s: %T, want a string", at, v)}
		}
		switch schema["format"] {
		case "date-time":
			if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
				out = append(out, fmt.Sprintf("%s: %q is not a date-time", at, s))
			}
		case "byte":
			if _, err := base64.StdEncoding.DecodeString(s); err != nil {
				out = append(out, fmt.Sprintf("%s: not base64", at))
			}
		}
	case "integer":
		f, ok := v.(float64)
		if !ok || f != float64(int64(f)) {
			return []string{fmt.Sprintf("%s: %v, want an integer", at, v)}
		}
		if minimum, ok := schema["minimum"].(int); ok && f < float64(minimum) {
			out = append(out, fmt.Sprintf("%s: %v is below the minimum %d", at, v, minimum))
		}
	case "number":
		if _, ok := v.(float64); !ok {
			return []string{fmt.Sprintf("%s: %T, want a number", at, v)}
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return []string{fmt.Sprintf("%s: %T, want a boolean", at, v)}
		}
	}
	return out
}
