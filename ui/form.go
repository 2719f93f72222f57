package ui

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
)

// maxFormBody bounds the body of a screen's form. The largest is the
// expected roll's, a few fields for each cell of the wing; the others are
// a few fields and a note.
const maxFormBody = 64 << 10

// maxActionBody bounds the JSON body of an API action (api.ReadJSON):
// a few fields and a note.
const maxActionBody = 8 << 10

// errFormTooLarge and errFormUnreadable are why parseForm refused a body.
var (
	errFormTooLarge   = errors.New("form too large")
	errFormUnreadable = errors.New("form unreadable")
)

// readForm is the one reader of a screen's form, for every handler that
// takes one (needs reads it before the handler runs, checkCSRF looks in
// it for the token): the form's fields, or false when the body was
// refused, answered with 413 or 400 and a sentence saying nothing was
// done, so the handler must return without acting.
func (s *Server) readForm(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	form, err := parseForm(w, r)
	if err != nil {
		s.refuseForm(w, r, err)
		return nil, false
	}
	return form, true
}

// parseForm reads r's body, at most maxFormBody bytes, as an
// application/x-www-form-urlencoded form; an empty body is an empty form.
// A body that is larger (errFormTooLarge), or is not such a form
// (errFormUnreadable), is refused as a whole, never read in part: a field
// is never silently lost. The body is read once; a later call answers the
// same.
func parseForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	if r.PostForm != nil {
		return r.PostForm, nil
	}
	if b, ok := r.Body.(refusedBody); ok {
		return nil, b.err
	}
	form, err := formOf(w, r)
	if err != nil {
		r.Body = refusedBody{err}
		return nil, err
	}
	r.PostForm = form // what r.PostFormValue would find
	return form, nil
}

func formOf(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return url.Values{}, nil
	}
	ct := r.Header.Get("Content-Type")
	if ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/x-www-form-urlencoded" {
			return nil, fmt.Errorf("%w: sent as %.40q, not as a form", errFormUnreadable, ct)
		}
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFormBody))
	if errors.As(err, new(*http.MaxBytesError)) {
		return nil, fmt.Errorf("%w: more than %d KiB", errFormTooLarge, maxFormBody>>10)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errFormUnreadable, err)
	}
	if ct == "" && len(b) > 0 {
		return nil, fmt.Errorf("%w: sent without saying it is a form", errFormUnreadable)
	}
	form, err := url.ParseQuery(string(b))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errFormUnreadable, err)
	}
	return form, nil
}

// refusedBody stands for a body parseForm refused, so that reading it
// again refuses it again.
type refusedBody struct{ err error }

func (b refusedBody) Read([]byte) (int, error) { return 0, b.err }
func (b refusedBody) Close() error             { return nil }

// refuseForm answers a form parseForm refused: 413 when it was too large,
// 400 when it could not be read; a page, or JSON for the API.
func (s *Server) refuseForm(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, errFormTooLarge) {
		s.refuse(w, r, http.StatusRequestEntityTooLarge, "Not done: too much was sent",
			fmt.Sprintf("The form sent more than a screen's form ever holds (at most %d KiB), so none of it was read and nothing was recorded. Shorten what you typed and try again.", maxFormBody>>10))
		return
	}
	s.refuse(w, r, http.StatusBadRequest, "Not done: the form could not be read",
		"The form that was sent could not be read, so nothing was recorded. Reload the page and try again.")
}
