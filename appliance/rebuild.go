package appliance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"wingnode/appliance/api"
	"wingnode/appliance/datadir"
	"wingnode/sync/member"
)

// ErrRebuilding is wrapped by the store's refusal of events while the wing
// rebuilds its events from the site.
var ErrRebuilding = errors.New("this wing is rebuilding its events from the site and records nothing until it has caught up: try again in a moment")

// rebuild waits, when the wing must rebuild its events from the site
// (Config.Rebuild, or DATA/site/rebuild left by 'wingnode restore' or by
// a rebuild a restart cut short), until it has applied the site's log as
// far as its leader had when last asked, and holds every event of its own
// wing the site committed; then it removes the marker. Until then the
// wing records nothing, so its next event continues its chain instead of
// starting a second seq 1.
func (a *Appliance) rebuild(ctx context.Context) error {
	marker := datadir.Dir(a.cfg.DataDir).Rebuild()
	if a.cfg.Rebuild {
		if err := os.MkdirAll(filepath.Dir(marker), 0o700); err != nil {
			return fmt.Errorf("appliance: rebuild: %w", err)
		}
		if err := datadir.WriteFile(marker, []byte("rebuild this wing's events from the site before recording\n"), 0o600); err != nil {
			return fmt.Errorf("appliance: rebuild: %w", err)
		}
	}
	if _, err := os.Stat(marker); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	a.log.Warn("this wing rebuilds its events from the site before it records: it records nothing until it has caught up", "wing", a.layout.ID)
	a.store.PauseLocal(ErrRebuilding)
	defer a.store.ResumeLocal()
	began := time.Now()
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	next := began.Add(30 * time.Second)
	for {
		m := a.member.Load()
		if m != nil && a.caughtUp(m) {
			break
		}
		if time.Now().After(next) {
			a.log.Warn("still rebuilding from the site: is the site reachable, and was the wing enrolled again ('wingnode site replace')?", "for", time.Since(began).Round(time.Second))
			next = time.Now().Add(30 * time.Second)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	a.store.ResumeLocal() // caught up: the marker goes next, and a crash before that only rebuilds again
	if err := os.Remove(marker); err != nil {
		return fmt.Errorf("appliance: rebuild: %w", err)
	}
	heads, _ := a.store.Heads()
	a.log.Info("rebuilt this wing's events from the site; recording", "wing", a.layout.ID, "seq", heads[a.layout.ID], "took", time.Since(began).Round(time.Millisecond))
	return nil
}

// caughtUp reports whether this wing has applied the site's log as far as
// its leader had at its last answer, and holds its own committed events.
func (a *Appliance) caughtUp(m *member.Member) bool {
	st := m.Status()
	if st.Leader == "" || m.AppliedIndex() < m.CommitIndex() {
		return false
	}
	var local uint64
	caught := st.Leader == a.layout.ID
	for _, w := range st.Wings {
		switch {
		case w.Local:
			local = w.Committed
		case w.Wing == st.Leader:
			caught = w.Reachable && w.Applied > 0 && st.Applied >= w.Applied
		}
	}
	heads, err := a.store.Heads()
	return caught && err == nil && heads[a.layout.ID] >= local
}

// backup serves a consistent copy of the store while recording goes on.
func (a *Appliance) backup(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="wing-%s-%s.db"`, a.layout.ID, time.Now().UTC().Format("20060102T150405Z")))
	// A store of a million events takes a while on a slow link: the copy
	// may write as long as it keeps going, a minute at most without a byte.
	rc := http.NewResponseController(w)
	out := deadlineWriter{w: w, rc: rc}
	if _, err := a.store.Backup(out, func(n int64) { w.Header().Set("Content-Length", fmt.Sprint(n)) }); err != nil {
		a.log.Error("backup", "err", err) // the copy was cut short: the client sees a short body
	}
}

// deadlineWriter extends the connection's write deadline before each
// write, by the server's write timeout.
type deadlineWriter struct {
	w  io.Writer
	rc *http.ResponseController
}

func (d deadlineWriter) Write(p []byte) (int, error) {
	_ = d.rc.SetWriteDeadline(time.Now().Add(api.WriteTimeout))
	return d.w.Write(p)
}
