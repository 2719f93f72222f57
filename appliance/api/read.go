package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Body says how ReadJSON reads a request's body.
type Body struct {
	// Limit is the most bytes the body may hold; a longer body is refused
	// with 413, never cut short. Zero means DefaultLimit.
	Limit int64
	// Optional allows an empty body (nothing, or white space only): v is
	// left as it is. Otherwise an empty body is refused.
	Optional bool
	// Lenient ignores fields that v does not have instead of refusing
	// them. Only for a peer that may run a newer build (the site port
	// during a rollout); an API whose document says additionalProperties:
	// false refuses them.
	Lenient bool
}

// DefaultLimit is a Body's limit when it gives none.
const DefaultLimit = 8 << 10

// BodyError is ReadJSON's refusal of a body: Status is 413 when it is
// larger than its limit and 400 when it is not one JSON value of the
// expected shape, and Sentence says what was wrong. A sentence about one
// field starts with the field's name and a colon; one about the whole body
// with "body:".
type BodyError struct {
	Status   int
	Sentence string
	Err      error
}

func (e *BodyError) Error() string { return "api: " + e.Sentence }
func (e *BodyError) Unwrap() error { return e.Err }

// ErrEmptyBody is wrapped by the BodyError of an empty body that was not
// Optional.
var ErrEmptyBody = errors.New("empty body")

// ErrTrailingData is wrapped by the BodyError of a body with more after
// its JSON value.
var ErrTrailingData = errors.New("data after the JSON value")

// ReadJSON is the one reader of a JSON request body, for every API: it
// reads r's body, at most b.Limit bytes, as exactly one JSON value decoded
// into v, with nothing after it but white space; a field that v does not
// have is refused by name (unless b.Lenient). Its error is a *BodyError;
// answer it with RefuseBody. Nothing has been done when it refuses, so
// the handler must return without acting.
func ReadJSON(w http.ResponseWriter, r *http.Request, v any, b Body) error {
	if b.Limit <= 0 {
		b.Limit = DefaultLimit
	}
	if r.Body == nil {
		r.Body = http.NoBody
	}
	body := http.MaxBytesReader(w, r.Body, b.Limit)
	dec := json.NewDecoder(body)
	if !b.Lenient {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			if b.Optional {
				return nil
			}
			return &BodyError{Status: http.StatusBadRequest, Sentence: "body: empty", Err: ErrEmptyBody}
		}
		return decodeError(err, b.Limit)
	}
	// Nothing but white space may follow, read to the end (or the limit).
	switch _, err := dec.Token(); {
	case errors.Is(err, io.EOF):
		return nil
	case err == nil, errors.As(err, new(*json.SyntaxError)):
		return &BodyError{Status: http.StatusBadRequest, Sentence: "body: more follows the JSON value; send one JSON object and nothing after it", Err: ErrTrailingData}
	default:
		return decodeError(err, b.Limit)
	}
}

// decodeError turns a decoding or reading error into a BodyError.
func decodeError(err error, limit int64) *BodyError {
	var (
		tooLarge *http.MaxBytesError
		syntax   *json.SyntaxError
		typ      *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooLarge):
		return &BodyError{Status: http.StatusRequestEntityTooLarge, Sentence: fmt.Sprintf("body: larger than %s; nothing was done", bytesText(limit)), Err: err}
	case errors.As(err, &syntax):
		return &BodyError{Status: http.StatusBadRequest, Sentence: fmt.Sprintf("body: not JSON (%s, at byte %d)", strings.TrimPrefix(syntax.Error(), "json: "), syntax.Offset), Err: err}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &BodyError{Status: http.StatusBadRequest, Sentence: "body: the JSON ends before it is complete", Err: err}
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return &BodyError{Status: http.StatusBadRequest, Sentence: fmt.Sprintf("body: a JSON %s where %s is expected", typ.Value, typeName(typ.Type.Kind().String())), Err: err}
		}
		return &BodyError{Status: http.StatusBadRequest, Sentence: fmt.Sprintf("%s: a JSON %s where %s is expected", field, typ.Value, typeName(typ.Type.Kind().String())), Err: err}
	}
	// encoding/json names an unknown field only in its message.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if unq, qerr := strconv.Unquote(name); qerr == nil {
			name = unq
		}
		return &BodyError{Status: http.StatusBadRequest, Sentence: fmt.Sprintf("%.64s: not a field of this request; leave it out", name), Err: err}
	}
	return &BodyError{Status: http.StatusBadRequest, Sentence: "body: cannot be read: " + err.Error(), Err: err}
}

// typeName is a Go kind in JSON's words, with its article.
func typeName(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"):
		return "a whole number"
	case strings.HasPrefix(kind, "float"):
		return "a number"
	case kind == "bool":
		return "true or false"
	case kind == "slice", kind == "array":
		return "a list"
	case kind == "struct", kind == "map":
		return "an object"
	}
	return "a " + kind
}

// bytesText is a size in words: "8 KiB", "64 KiB", "100 bytes".
func bytesText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// RefuseBody answers a refused body (ReadJSON's error) with its status and
// {"error": sentence}, the sentence followed by hint, which says what to
// send, when not empty.
func RefuseBody(w http.ResponseWriter, err error, hint string) {
	status, sentence := http.StatusBadRequest, err.Error()
	var be *BodyError
	if errors.As(err, &be) {
		status, sentence = be.Status, be.Sentence
	}
	sentence += "."
	if hint != "" {
		sentence += " " + hint
	}
	WriteError(w, status, sentence)
}
