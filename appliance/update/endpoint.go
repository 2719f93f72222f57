package update

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/jonboulle/clockwork"

	"wingnode/appliance/api"
	"wingnode/appliance/datadir"
	"wingnode/firmware"
	"wingnode/sync/site"
)

// maxBundle bounds an uploaded bundle: a root slot is 32 MiB today.
const maxBundle = 512 << 20

// Site is the wing's site membership as updates use it (sync/member).
type Site interface {
	// Status is this wing's view of the site, with the agreed rollout.
	Status() site.Status
	// Propose has the site commit a command.
	Propose(ctx context.Context, c site.Command) error
	// Changed is closed the next time the wing applies the site's log.
	Changed() <-chan struct{}
	// Client calls other wings' site ports with this wing's certificate.
	Client() *http.Client
}

// Config configures a wing's updates.
type Config struct {
	// Data is the wing's data folder: the site IT token hash, the slot
	// state, the rollout's bundle and the store snapshots.
	Data datadir.Dir
	// Wing is this wing's id.
	Wing string
	// Device loads the wing's update machinery; default
	// firmware.LoadDevice on Data, as a wingnode image has it.
	Device func() (firmware.Device, error)
	// Reboot asks the image's init to reboot the board; default: signal
	// the init when it started this process (WINGNODE_INIT=1, parent 1),
	// else nil, and this wing cannot reboot into an update.
	Reboot func() error
	// Site returns the wing's site membership, nil while it has none.
	Site func() Site
	// Clock paces the rollout agent; default the real clock.
	Clock clockwork.Clock
	// Log receives operational messages; default slog.Default().
	Log *slog.Logger
}

// Updates is a wing's firmware updates: site IT's endpoint on the screens'
// port,
//
//	GET  /api/v1/firmware               the slots, their versions and trial state
//	POST /api/v1/firmware               install the bundle in the body into the inactive slot
//	POST /api/v1/firmware/reboot        reboot, to try what was installed
//	POST /api/v1/firmware/rollout       roll the bundle in the body out to the site (rollout.go)
//	POST /api/v1/firmware/rollout/stop  stop the site's rollout
//
// the bundle of a rollout served to the other wings (ServeBundle), and the
// agent that takes this wing's turn in the site's rollouts (FollowRollouts).
// Every request to the endpoint carries site IT's token as a bearer token;
// it is checked against the hash in the data folder and never logged.
type Updates struct {
	cfg        Config
	guesses    *api.Guesses // wrong site IT tokens, by client
	installing sync.Mutex   // one install at a time
}

// New returns the updates of a wing.
func New(cfg Config) *Updates {
	if cfg.Device == nil {
		data := cfg.Data
		cfg.Device = func() (firmware.Device, error) { return firmware.LoadDevice(string(data)) }
	}
	// The image's init (images/cmd/wingnode-init) says it started us; on
	// SIGTERM it stops wingnode, disarms the watchdog and reboots.
	if cfg.Reboot == nil && os.Getenv("WINGNODE_INIT") == "1" && os.Getppid() == 1 {
		cfg.Reboot = func() error { return syscall.Kill(1, syscall.SIGTERM) }
	}
	if cfg.Site == nil {
		cfg.Site = func() Site { return nil }
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Updates{cfg: cfg, guesses: api.NewGuesses(cfg.Clock.Now)}
}

// firmwareStatus is the answer of GET /api/v1/firmware, and of a POST with
// a message.
type firmwareStatus struct {
	Message     string                              `json:"message,omitempty"`
	Hardware    string                              `json:"hardware"`
	TrustedKeys []string                            `json:"trusted_keys"`
	Running     firmware.SlotName                   `json:"running"`
	Trial       bool                                `json:"trial"` // the running slot is not confirmed yet
	Floor       uint64                              `json:"floor"`
	Slots       map[firmware.SlotName]firmware.Slot `json:"slots"`
	Snapshots   []string                            `json:"snapshots"`
	// Rollout is the site's latest firmware rollout, when there is one.
	Rollout *firmware.Rollout `json:"rollout,omitempty"`
}

func (u *Updates) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	client := api.Client(r)
	if wait := u.guesses.Wait(client); wait > 0 {
		api.WriteTooMany(w, wait, fmt.Sprintf("too many wrong site IT tokens from %s: wait %s, then send the right one", client, wait.Round(time.Second)))
		return
	}
	if status, msg := u.authenticate(r); status != http.StatusOK {
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="wingnode site IT"`)
		}
		api.WriteError(w, status, msg)
		return
	}
	switch {
	case r.URL.Path == "/api/v1/firmware" && r.Method == http.MethodGet:
		u.status(w)
	case r.URL.Path == "/api/v1/firmware" && r.Method == http.MethodPost:
		u.install(w, r)
	case r.URL.Path == "/api/v1/firmware/reboot" && r.Method == http.MethodPost:
		u.rebootNow(w)
	case r.URL.Path == "/api/v1/firmware/rollout" && r.Method == http.MethodPost:
		u.startRollout(w, r)
	case r.URL.Path == "/api/v1/firmware/rollout/stop" && r.Method == http.MethodPost:
		u.stopRollout(w, r)
	case slices.Contains([]string{"/api/v1/firmware", "/api/v1/firmware/reboot", "/api/v1/firmware/rollout", "/api/v1/firmware/rollout/stop"}, r.URL.Path):
		api.WriteError(w, http.StatusMethodNotAllowed, r.Method+" is not allowed here; see docs/openapi.yaml")
	default:
		api.WriteError(w, http.StatusNotFound, r.URL.Path+" does not exist; see docs/openapi.yaml")
	}
}

// SiteIT reports whether r carries site IT's token: the screens let it
// read their pages and API from off the board.
func (u *Updates) SiteIT(r *http.Request) bool {
	if r.Header.Get("Authorization") == "" {
		return false
	}
	status, _ := u.authenticate(r)
	return status == http.StatusOK
}

// authenticate checks the bearer token against the stored hash.
func (u *Updates) authenticate(r *http.Request) (int, string) {
	want, err := os.ReadFile(u.cfg.Data.SiteITHash())
	if errors.Is(err, fs.ErrNotExist) {
		return http.StatusForbidden, "site IT's token is not set on this wing: set it on the wing with 'wingnode firmware siteit-token -data DIR', or build the image with 'wingimage -siteit-token-hash FILE'"
	}
	if err != nil {
		u.cfg.Log.Error("site IT token hash", "err", err)
		return http.StatusInternalServerError, "site IT's token hash cannot be read; see the wing's log"
	}
	token, ok := bytes.CutPrefix([]byte(r.Header.Get("Authorization")), []byte("Bearer "))
	if !ok || len(token) == 0 {
		return http.StatusUnauthorized, "send site IT's token as 'Authorization: Bearer TOKEN'"
	}
	sum := sha256.Sum256(token)
	got := []byte(hex.EncodeToString(sum[:]))
	if subtle.ConstantTimeCompare(got, bytes.TrimSpace(want)) != 1 {
		if n, log := u.guesses.Wrong(api.Client(r)); log {
			u.cfg.Log.Warn("firmware endpoint: wrong site IT token (logged once a minute per client)", "from", api.Client(r), "wrong_this_minute", n, "method", r.Method, "path", r.URL.Path)
		}
		return http.StatusUnauthorized, "the site IT token is wrong"
	}
	u.guesses.Right(api.Client(r))
	return http.StatusOK, ""
}

func (u *Updates) status(w http.ResponseWriter) {
	d, s, ok := u.load(w)
	if !ok {
		return
	}
	api.WriteJSON(w, http.StatusOK, u.view(d, s, ""))
}

// load loads the device and its slot state, answering 503 when this
// machine has none.
func (u *Updates) load(w http.ResponseWriter) (firmware.Device, firmware.Slots, bool) {
	d, err := u.cfg.Device()
	if err == nil {
		var s firmware.Slots
		if s, err = d.Slots(); err == nil {
			return d, s, true
		}
	}
	u.cfg.Log.Warn("firmware endpoint: no update machinery", "err", err)
	api.WriteError(w, http.StatusServiceUnavailable, fmt.Sprintf("this wing cannot install updates: %v (updates are installed on wingnode images only)", err))
	return d, firmware.Slots{}, false
}

func (u *Updates) view(d firmware.Device, s firmware.Slots, msg string) firmwareStatus {
	v := firmwareStatus{
		Message:     msg,
		Hardware:    d.Hardware,
		TrustedKeys: d.Trust.IDs(),
		Running:     s.Active,
		Trial:       s.Slot(s.Active).Status == firmware.Trial,
		Floor:       s.Floor,
		Slots:       map[firmware.SlotName]firmware.Slot{firmware.SlotA: s.A, firmware.SlotB: s.B},
		Snapshots:   []string{},
	}
	if m := u.cfg.Site(); m != nil {
		v.Rollout = m.Status().Agreed.Rollout
	}
	if des, err := os.ReadDir(u.cfg.Data.Snapshots()); err == nil {
		for _, de := range des {
			if filepath.Ext(de.Name()) == ".db" && de.Type().IsRegular() {
				v.Snapshots = append(v.Snapshots, de.Name())
			}
		}
	}
	return v
}

// uploadTime is how long a bundle's upload may take: longer than the
// server's read timeout, which would cut it off.
const uploadTime = 10 * time.Minute

// allowUpload lets the request's body take uploadTime.
func allowUpload(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(uploadTime))
	_ = rc.SetWriteDeadline(time.Now().Add(uploadTime + time.Minute))
}

func (u *Updates) install(w http.ResponseWriter, r *http.Request) {
	allowUpload(w)
	if !u.installing.TryLock() {
		api.WriteError(w, http.StatusConflict, "another update is being installed; wait for it to finish")
		return
	}
	defer u.installing.Unlock()
	d, running, ok := u.load(w)
	if !ok {
		return
	}
	s, slot, err := d.Install(http.MaxBytesReader(w, r.Body, maxBundle))
	if err != nil {
		status := installStatus(err)
		u.cfg.Log.Warn("firmware update refused", "from", r.RemoteAddr, "slot", slot, "status", status, "err", err)
		api.WriteError(w, status, err.Error())
		return
	}
	sl := s.Slot(slot)
	u.cfg.Log.Info("firmware update installed", "from", r.RemoteAddr, "slot", slot, "version", sl.Version, "display", sl.Display)
	old := running.Slot(running.Active)
	msg := fmt.Sprintf("installed build %d (%s) into slot %s. POST /api/v1/firmware/reboot to try it: it gets %d boots to pass its health check, else the wing goes back to build %d (%s)",
		sl.Version, sl.Display, slot, sl.Tries, old.Version, old.Display)
	api.WriteJSON(w, http.StatusOK, u.view(d, s, msg))
}

// installStatus is the HTTP status for a refused bundle.
func installStatus(err error) int {
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, firmware.ErrSignature), errors.Is(err, firmware.ErrKey):
		return http.StatusForbidden
	case errors.Is(err, firmware.ErrDowngrade), errors.Is(err, firmware.ErrUnconfirmed):
		return http.StatusConflict
	case errors.Is(err, firmware.ErrHardware), errors.Is(err, firmware.ErrProduct), errors.Is(err, firmware.ErrUnsupported):
		return http.StatusUnprocessableEntity
	case errors.Is(err, firmware.ErrCorrupt), errors.Is(err, firmware.ErrManifest):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

func (u *Updates) rebootNow(w http.ResponseWriter) {
	if u.cfg.Reboot == nil {
		api.WriteError(w, http.StatusConflict, "this wingnode was not started by a wingnode image's init, so it cannot reboot the machine; restart it yourself")
		return
	}
	u.cfg.Log.Info("rebooting at site IT's request")
	api.WriteJSON(w, http.StatusAccepted, map[string]string{"message": "rebooting; the screen answers again in about a minute"})
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	// The init stops wingnode, which finishes this answer first.
	if err := u.cfg.Reboot(); err != nil {
		u.cfg.Log.Error("reboot", "err", err)
	}
}
