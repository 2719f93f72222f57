// Package api holds the conventions every wingnode HTTP API keeps, the
// screens' /api/v1 and the site port's /site/v1 alike: an answer is JSON
// and is never cached, and a request that fails is answered with
// {"error": sentence}, a sentence that says what went wrong and what to do.
// A request's JSON body is read by ReadJSON alone: bounded, one value and
// nothing after it, no field the request does not take; a body it refuses
// is answered 413 or 400 and nothing is done.
package api

import (
	"encoding/json"
	"net/http"
)

// WriteJSON answers with status and v as JSON, marked not to be cached.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	// An error here means the client went away: nothing left to tell it.
	_ = json.NewEncoder(w).Encode(v)
}

// errorBody is what WriteError sends.
type errorBody struct {
	Error string `json:"error"`
}

// WriteError answers with status and {"error": sentence}.
func WriteError(w http.ResponseWriter, status int, sentence string) {
	WriteJSON(w, status, errorBody{Error: sentence})
}
