package appliance

import (
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sys/unix"

	"wingnode/appliance/api"
	"wingnode/appliance/event"
	"wingnode/appliance/wing"
	"wingnode/sync/export"
	"wingnode/sync/offboard"
)

// operations holds what the wing counts for its metrics as it runs: the
// events stored, each transaction's write time, and where each central
// client's pull stands.
type operations struct {
	recorded   atomic.Uint64 // local events stored
	replicated atomic.Uint64 // other wings' events stored
	writes     prometheus.Histogram

	mu      sync.Mutex
	pullers map[string]puller
}

// puller is where a central client's pull stood at its last page here.
type puller struct {
	index uint64
	at    time.Time
}

func newOperations() *operations {
	return &operations{
		writes: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "wingnode_store_write_seconds",
			Help:    "Time to write and fsync one store transaction (a group commit of local and replicated events).",
			Buckets: []float64{0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5},
		}),
		pullers: map[string]puller{},
	}
}

// counted is the commit hook's step that counts stored events.
func (o *operations) counted(batch []event.Record, local string) {
	var mine uint64
	for _, r := range batch {
		if r.Event.Wing == local {
			mine++
		}
	}
	o.recorded.Add(mine)
	o.replicated.Add(uint64(len(batch)) - mine)
}

// served records the place a client's pull reached (central.Config.Served).
func (o *operations) served(r *http.Request, next export.Cursor) {
	c, ok := offboard.ClientOf(r)
	if !ok {
		return
	}
	o.mu.Lock()
	o.pullers[c.Name] = puller{index: next.Index, at: time.Now()}
	o.mu.Unlock()
}

func (o *operations) pulls() map[string]puller {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make(map[string]puller, len(o.pullers))
	for k, v := range o.pullers {
		out[k] = v
	}
	return out
}

// DiskWarnFraction is the free share of the data folder's file system
// below which the wing warns (log, metrics, readiness stays up): well
// before the disk fills and recording stops.
const DiskWarnFraction = 0.10

// diskSpace returns the free and total bytes of the file system holding dir.
func diskSpace(dir string) (free, total uint64, err error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, 0, err
	}
	return st.Bavail * uint64(st.Bsize), st.Blocks * uint64(st.Bsize), nil
}

// collector reads the wing's figures at each scrape.
type collector struct{ a *Appliance }

var (
	descBuild      = prometheus.NewDesc("wingnode_build_info", "The wingnode build running, as labels; always 1.", []string{"version", "goversion", "wing"}, nil)
	descRecorded   = prometheus.NewDesc("wingnode_events_recorded_total", "Events this wing recorded and stored since it started.", nil, nil)
	descReplicated = prometheus.NewDesc("wingnode_events_replicated_total", "Other wings' events this wing stored from the site since it started.", nil, nil)
	descHeld       = prometheus.NewDesc("wingnode_held_events", "Observed events held in memory because the store refuses them (a full or failed disk).", nil, nil)
	descRecording  = prometheus.NewDesc("wingnode_recording", "1 while the store accepts events, 0 while recording has stopped.", nil, nil)
	descFaults     = prometheus.NewDesc("wingnode_input_faults", "Inputs of this wing whose line is faulted (cut, shorted, tampered, flapping, stuck, missing).", nil, nil)
	descScreens    = prometheus.NewDesc("wingnode_open_screens", "Screens showing this wing live.", nil, nil)
	descDiskFree   = prometheus.NewDesc("wingnode_disk_free_bytes", "Free bytes on the file system of the data folder.", nil, nil)
	descDiskSize   = prometheus.NewDesc("wingnode_disk_size_bytes", "Size in bytes of the file system of the data folder.", nil, nil)
	descDiskLow    = prometheus.NewDesc("wingnode_disk_low", "1 when less than 10% of the data folder's file system is free: act before recording stops.", nil, nil)
	descStoreSize  = prometheus.NewDesc("wingnode_store_size_bytes", "Size in bytes of the event store file.", nil, nil)
	descRaftState  = prometheus.NewDesc("wingnode_raft_state", "1 for this wing's raft role, 0 for the others.", []string{"state"}, nil)
	descCommit     = prometheus.NewDesc("wingnode_raft_commit_index", "Newest raft index this wing knows the site committed.", nil, nil)
	descApplied    = prometheus.NewDesc("wingnode_raft_applied_index", "Newest raft index this wing applied.", nil, nil)
	descIsolated   = prometheus.NewDesc("wingnode_site_isolated", "1 while this wing knows no leader of its site (for longer than the isolation threshold).", nil, nil)
	descWaiting    = prometheus.NewDesc("wingnode_site_waiting_events", "This wing's events not yet committed by the site.", nil, nil)
	descCommitted  = prometheus.NewDesc("wingnode_site_committed_seq", "Each wing's newest seq committed by the site, as applied here.", []string{"wing"}, nil)
	descHeldSeq    = prometheus.NewDesc("wingnode_site_held_seq", "Each wing's newest seq this wing holds.", []string{"wing"}, nil)
	descReachable  = prometheus.NewDesc("wingnode_site_wing_reachable", "1 when the wing answered this wing's last probe (1 for this wing).", []string{"wing"}, nil)
	descWingLag    = prometheus.NewDesc("wingnode_site_apply_lag_entries", "Raft entries each wing has yet to apply, against this wing's commit index, as it last answered.", []string{"wing"}, nil)
	descClientLag  = prometheus.NewDesc("wingnode_central_client_lag_entries", "Raft entries between this wing's newest commit and where each central client's pull stood at its last page here.", []string{"client"}, nil)
	descClientSeen = prometheus.NewDesc("wingnode_central_client_last_pull_timestamp_seconds", "When each central client last pulled a page from this wing (Unix seconds).", []string{"client"}, nil)
)

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descBuild, descRecorded, descReplicated, descHeld, descRecording, descFaults, descScreens,
		descDiskFree, descDiskSize, descDiskLow, descStoreSize, descRaftState, descCommit, descApplied, descIsolated, descWaiting,
		descCommitted, descHeldSeq, descReachable, descWingLag, descClientLag, descClientSeen} {
		ch <- d
	}
}

func gauge(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func flag(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	a := c.a
	ch <- gauge(descBuild, 1, a.cfg.Version, runtime.Version(), a.layout.ID)
	ch <- prometheus.MustNewConstMetric(descRecorded, prometheus.CounterValue, float64(a.ops.recorded.Load()))
	ch <- prometheus.MustNewConstMetric(descReplicated, prometheus.CounterValue, float64(a.ops.replicated.Load()))
	ch <- gauge(descHeld, float64(a.recording.Held()))
	ch <- gauge(descRecording, flag(a.recording.Recording() == nil))
	faults := 0
	a.picture.Read(func(s *wing.State) {
		for _, in := range s.Inputs {
			if in.Faulted {
				faults++
			}
		}
	})
	ch <- gauge(descFaults, float64(faults))
	ch <- gauge(descScreens, float64(a.picture.Subscribers()))
	if free, total, err := diskSpace(a.cfg.DataDir); err == nil {
		ch <- gauge(descDiskFree, float64(free))
		ch <- gauge(descDiskSize, float64(total))
		ch <- gauge(descDiskLow, flag(float64(free) < DiskWarnFraction*float64(total)))
	}
	if fi, err := os.Stat(a.store.Path()); err == nil {
		ch <- gauge(descStoreSize, float64(fi.Size()))
	}
	m := a.member.Load()
	state := "None"
	if m != nil {
		state = m.RaftState()
	}
	for _, s := range []string{"Leader", "Follower", "Candidate", "Shutdown", "None"} {
		ch <- gauge(descRaftState, flag(s == state), strings.ToLower(s))
	}
	if m == nil {
		return
	}
	commit := m.CommitIndex()
	ch <- gauge(descCommit, float64(commit))
	ch <- gauge(descApplied, float64(m.AppliedIndex()))
	st := m.Status()
	ch <- gauge(descIsolated, flag(st.Isolated))
	ch <- gauge(descWaiting, float64(st.Waiting))
	for _, w := range st.Wings {
		ch <- gauge(descCommitted, float64(w.Committed), w.Wing)
		ch <- gauge(descHeldSeq, float64(w.Held), w.Wing)
		ch <- gauge(descReachable, flag(w.Local || w.Reachable), w.Wing)
		lag := 0.0
		if commit > w.Applied {
			lag = float64(commit - w.Applied)
		}
		ch <- gauge(descWingLag, lag, w.Wing)
	}
	last, _, _ := a.store.LastCommit()
	for name, p := range a.ops.pulls() {
		lag := 0.0
		if last > p.index {
			lag = float64(last - p.index)
		}
		ch <- gauge(descClientLag, lag, name)
		ch <- gauge(descClientSeen, float64(p.at.UnixMilli())/1000, name)
	}
}

// metricsHandler serves /metrics in Prometheus' text format.
func (a *Appliance) metricsHandler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector{a}, a.ops.writes,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Not compressed: a scrape is tens of kilobytes, and a gzip writer for
	// each costs the appliance a megabyte of its small heap.
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{DisableCompression: true})
}

// Readiness is what /readyz checks.
type Readiness struct {
	Ready bool `json:"ready"`
	// Problems say what is not ready, one sentence each.
	Problems []string `json:"problems,omitempty"`
	Wing     string   `json:"wing"`
	Leader   string   `json:"leader"`
	Commit   uint64   `json:"commit_index"`
	Applied  uint64   `json:"applied_index"`
}

// Ready reports whether the wing is ready to serve the site's data: its
// store accepts events, it knows a leader (unless noLeader), and it has
// applied everything it knows the site committed.
func (a *Appliance) Ready(noLeader bool) Readiness {
	r := Readiness{Wing: a.layout.ID}
	if err := a.recording.Recording(); err != nil {
		r.Problems = append(r.Problems, fmt.Sprintf("the store refuses events: %v", err))
	}
	m := a.member.Load()
	switch {
	case m == nil:
		r.Problems = append(r.Problems, "this wing has not joined its site yet")
	default:
		r.Leader, r.Commit, r.Applied = m.Leader(), m.CommitIndex(), m.AppliedIndex()
		if r.Leader == "" && !noLeader {
			r.Problems = append(r.Problems, "this wing knows no leader of its site (add ?noleader to leave that out)")
		}
		if r.Applied < r.Commit {
			r.Problems = append(r.Problems, fmt.Sprintf("this wing has applied the site's log up to %d of %d", r.Applied, r.Commit))
		}
	}
	r.Ready = len(r.Problems) == 0
	return r
}

// readyz answers /readyz: 200 when Ready, 503 otherwise, with the reasons.
func (a *Appliance) readyz(w http.ResponseWriter, r *http.Request) {
	rd := a.Ready(r.URL.Query().Has("noleader"))
	status := http.StatusOK
	if !rd.Ready {
		status = http.StatusServiceUnavailable
	}
	api.WriteJSON(w, status, rd)
}
