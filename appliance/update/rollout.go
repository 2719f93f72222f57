package update

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"wingnode/appliance/api"
	"wingnode/appliance/datadir"
	"wingnode/appliance/event"
	"wingnode/firmware"
	"wingnode/sync/site"
)

// A firmware rollout (firmware.Rollout) goes round the site like this: site IT
// uploads a signed bundle to one wing (POST /api/v1/firmware/rollout). That
// wing checks it as an install would, keeps it, and has the site agree on
// the rollout: itself first, then the other wings in order. Each wing, on
// its turn, fetches the bundle from a wing that holds it (over the site
// port), installs it into its inactive slot and reboots into it. Once it
// runs the build with the slot confirmed by its health check, it reports
// done and the next wing starts; if its boot loader went back to the old
// build, or the install was refused, it reports the failure, and the
// rollout stops there.

func validDigest(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == sha256.Size && s == strings.ToLower(s)
}

// startRollout keeps the uploaded bundle, checked as an install would
// check it, and has the site agree on its rollout.
func (u *Updates) startRollout(w http.ResponseWriter, r *http.Request) {
	allowUpload(w)
	m := u.cfg.Site()
	if m == nil {
		api.WriteError(w, http.StatusServiceUnavailable, "this wing is not running its site yet; try again in a minute, or install on this wing alone with POST /api/v1/firmware")
		return
	}
	if !u.installing.TryLock() {
		api.WriteError(w, http.StatusConflict, "another update is being installed or uploaded; wait for it to finish")
		return
	}
	defer u.installing.Unlock()
	d, s, ok := u.load(w)
	if !ok {
		return
	}
	body := http.MaxBytesReader(w, r.Body, maxBundle)
	digest, size, man, err := keepBundle(u.cfg.Data, func(dst io.Writer) (firmware.Manifest, error) {
		return firmware.Copy(dst, body, d.Trust, s.Target(d.Hardware)) // the signed manifest first; nothing past what it pins
	}, nil)
	if err != nil {
		status := installStatus(err)
		u.cfg.Log.Warn("firmware rollout refused", "from", r.RemoteAddr, "status", status, "err", err)
		api.WriteError(w, status, err.Error())
		return
	}
	st := m.Status()
	me := u.cfg.Wing
	order := []string{me}
	for _, id := range slices.Sorted(func(yield func(string) bool) {
		for id, rec := range st.Agreed.Wings {
			if !rec.Removed && !yield(id) {
				return
			}
		}
	}) {
		if id != me {
			order = append(order, id)
		}
	}
	ro := &firmware.Rollout{Build: man.Version, Display: man.Display, Digest: digest, Size: size, Holder: me, Order: order}
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	if err := m.Propose(ctx, site.Command{Op: site.OpRolloutStart, By: site.SiteIT, Rollout: ro}); err != nil {
		status := http.StatusConflict
		if errors.Is(err, site.ErrNoSite) || ctx.Err() != nil {
			status = http.StatusServiceUnavailable
		}
		api.WriteError(w, status, "the site did not agree to the rollout: "+err.Error())
		return
	}
	u.cfg.Log.Info("firmware rollout started", "build", man.Version, "display", man.Display, "order", strings.Join(order, ","))
	msg := fmt.Sprintf("rolling build %d (%s) out to the site: wing %s first, then %s, one at a time; the rollout stops at the first wing that fails. GET /api/v1/firmware shows its progress",
		man.Version, man.Display, order[0], strings.Join(order[1:], ", "))
	if len(order) == 1 {
		msg = fmt.Sprintf("rolling build %d (%s) out to this wing, the only one of its site", man.Version, man.Display)
	}
	api.WriteJSON(w, http.StatusAccepted, u.view(d, s, msg))
}

// keepBundle keeps a bundle in the bundles folder under its SHA-256:
// write copies it into the file it is given (checking it as it goes, and
// returning its manifest), check may refuse it by its digest and size, and
// the bundles of earlier rollouts are removed. Nothing is kept when
// anything fails.
func keepBundle(data datadir.Dir, write func(dst io.Writer) (firmware.Manifest, error), check func(digest string, size int64) error) (digest string, size int64, m firmware.Manifest, err error) {
	dir := data.Bundles()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", 0, m, err
	}
	f, err := os.CreateTemp(dir, "upload-*.part")
	if err != nil {
		return "", 0, m, err
	}
	defer os.Remove(f.Name()) // after the rename, there is nothing to remove
	defer f.Close()
	h := sha256.New()
	cw := &countingWriter{w: io.MultiWriter(f, h)}
	if m, err = write(cw); err != nil {
		return "", 0, m, err
	}
	digest, size = hex.EncodeToString(h.Sum(nil)), cw.n
	if check != nil {
		if err := check(digest, size); err != nil {
			return "", 0, m, err
		}
	}
	if err := f.Sync(); err != nil {
		return "", 0, m, err
	}
	if err := os.Rename(f.Name(), data.Bundle(digest)); err != nil {
		return "", 0, m, err
	}
	dropOtherBundles(data, digest)
	return digest, size, m, nil
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

func dropOtherBundles(data datadir.Dir, keep string) {
	des, _ := os.ReadDir(data.Bundles())
	for _, de := range des {
		if de.Name() != keep+".bundle" && !strings.HasSuffix(de.Name(), ".part") {
			os.Remove(filepath.Join(data.Bundles(), de.Name()))
		}
	}
}

// stopRollout has the site stop its rollout; wings that installed the
// build keep it.
func (u *Updates) stopRollout(w http.ResponseWriter, r *http.Request) {
	m := u.cfg.Site()
	if m == nil {
		api.WriteError(w, http.StatusServiceUnavailable, "this wing is not running its site yet; try again in a minute")
		return
	}
	var req struct {
		Reason string `json:"reason"`
	}
	if err := api.ReadJSON(w, r, &req, api.Body{Limit: 4096, Optional: true}); err != nil {
		api.RefuseBody(w, err, "Send nothing, or {\"reason\": \"...\"}.")
		return
	}
	if err := event.CheckText("reason", req.Reason); err != nil {
		api.WriteError(w, http.StatusBadRequest, err.Error()+"; nothing was stopped")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	if err := m.Propose(ctx, site.Command{Op: site.OpRolloutStop, By: site.SiteIT, Reason: req.Reason}); err != nil {
		api.WriteError(w, http.StatusConflict, "the site did not stop a rollout: "+err.Error())
		return
	}
	u.cfg.Log.Info("firmware rollout stopped by site IT")
	api.WriteJSON(w, http.StatusOK, map[string]string{"message": "the rollout is stopped; wings that installed the build keep it"})
}

// ServeBundle serves the kept bundle of a rollout to the other wings, on
// the site port: GET /site/v1/bundle/{digest}.
func (u *Updates) ServeBundle() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		digest := r.PathValue("digest")
		if !validDigest(digest) {
			http.Error(w, "not a bundle digest", http.StatusBadRequest)
			return
		}
		f, err := os.Open(u.cfg.Data.Bundle(digest))
		if err != nil {
			http.Error(w, "this wing does not hold that bundle", http.StatusNotFound)
			return
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		http.ServeContent(w, r, "", fi.ModTime(), f)
	})
}

// reportReason is why an install failed as the site takes it (the one
// rule for text, event.CheckText): the errors it quotes may run long or
// hold line breaks, and a report the site refused would hold the rollout
// up at this wing.
func reportReason(s string) string {
	s = strings.Map(func(r rune) rune {
		if event.CheckText("reason", string(r)) != nil {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
	if r := []rune(s); len(r) > event.MaxNote {
		s = string(r[:event.MaxNote-1]) + "…"
	}
	return s
}

// FollowRollouts takes this wing's turns in the site's rollouts until ctx
// ends.
func (u *Updates) FollowRollouts(ctx context.Context, m Site) {
	tick := u.cfg.Clock.NewTicker(2 * time.Second)
	defer tick.Stop()
	var lastErr string
	for ctx.Err() == nil {
		changed := m.Changed()
		if err := u.rolloutTurn(ctx, m); err != nil && err.Error() != lastErr {
			u.cfg.Log.Warn("firmware rollout: this wing's turn", "err", err)
			lastErr = err.Error()
		}
		select {
		case <-ctx.Done():
		case <-changed:
		case <-tick.Chan():
		}
	}
}

// rolloutTurn does what this wing's turn in the rollout needs next, if it
// is its turn: report the build running, report a failure, or fetch,
// install and reboot.
func (u *Updates) rolloutTurn(ctx context.Context, m Site) error {
	r := m.Status().Agreed.Rollout
	me := u.cfg.Wing
	if r.Next() != me {
		return nil
	}
	data := u.cfg.Data
	report := func(reason string) error {
		if reason == "" {
			u.cfg.Log.Info("firmware rollout: this wing runs the build", "build", r.Build)
		} else {
			u.cfg.Log.Warn("firmware rollout: this wing failed; the rollout stops", "build", r.Build, "reason", reason)
		}
		ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		return m.Propose(ctx, site.Command{Op: site.OpRolloutReport, Wing: me, Build: r.Build, Reason: reportReason(reason)})
	}
	d, err := u.cfg.Device()
	if err != nil {
		return report(fmt.Sprintf("this wing cannot install updates (%v)", err))
	}
	s, err := d.Slots()
	if err != nil {
		return report(fmt.Sprintf("this wing's slot state cannot be read (%v)", err))
	}
	running := s.Slot(s.Active)
	tried, _ := os.ReadFile(data.RolloutAttempt())
	switch {
	case running.Version >= r.Build && running.Status == firmware.Good:
		os.Remove(data.RolloutAttempt())
		return report("")
	case running.Version == r.Build:
		return nil // on trial: the image's init confirms it once the screen answers
	case strings.TrimSpace(string(tried)) == r.Digest:
		os.Remove(data.RolloutAttempt())
		return report(fmt.Sprintf("came back on build %d after trying build %d (it failed its boots or its health check)", running.Version, r.Build))
	}
	if u.cfg.Reboot == nil {
		return report("this wingnode does not run under a wingnode image's init, so it cannot reboot into an update")
	}
	path, err := u.fetchBundle(ctx, m, r)
	if err != nil {
		return err // tried again on the next tick
	}
	if !u.installing.TryLock() {
		return errors.New("site IT is installing an update on this wing; waiting")
	}
	defer u.installing.Unlock()
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	next, slot, err := d.Install(f)
	f.Close()
	if err != nil {
		return report("install refused: " + err.Error())
	}
	if err := os.WriteFile(data.RolloutAttempt(), []byte(r.Digest+"\n"), 0o600); err != nil {
		return err
	}
	u.cfg.Log.Info("firmware rollout: installed; rebooting into it", "build", r.Build, "slot", slot, "tries", next.Slot(slot).Tries)
	return u.cfg.Reboot()
}

// fetchBundle returns the path of the rollout's bundle, fetching it from a
// wing that holds it when this wing does not.
func (u *Updates) fetchBundle(ctx context.Context, m Site, r *firmware.Rollout) (string, error) {
	path := u.cfg.Data.Bundle(r.Digest)
	if fi, err := os.Stat(path); err == nil && fi.Size() == r.Size {
		return path, nil
	}
	wings := m.Status().Agreed.Wings
	var errs []error
	for _, h := range r.Holders() {
		rec, ok := wings[h]
		if !ok || h == u.cfg.Wing {
			continue
		}
		err := u.fetchBundleFrom(ctx, m, "https://"+rec.Addr+"/site/v1/bundle/"+r.Digest, r)
		if err == nil {
			u.cfg.Log.Info("firmware rollout: fetched the bundle", "from", h, "bytes", r.Size)
			return path, nil
		}
		errs = append(errs, fmt.Errorf("from wing %s: %w", h, err))
	}
	return "", fmt.Errorf("cannot fetch build %d's bundle: %w", r.Build, errors.Join(errs...))
}

func (u *Updates) fetchBundleFrom(ctx context.Context, m Site, url string, r *firmware.Rollout) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := m.Client().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s", resp.Status)
	}
	_, _, _, err = keepBundle(u.cfg.Data, func(dst io.Writer) (firmware.Manifest, error) {
		_, err := io.Copy(dst, io.LimitReader(resp.Body, r.Size+1))
		return firmware.Manifest{}, err
	}, func(digest string, size int64) error {
		if size != r.Size || digest != r.Digest {
			return fmt.Errorf("%w: the bundle fetched is not the one the site agreed on (%d bytes)", firmware.ErrCorrupt, size)
		}
		return nil
	})
	return err
}
