package server_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/draftroom/draftroom/auth"
	"github.com/draftroom/draftroom/client"
	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/metrics"
	"github.com/draftroom/draftroom/server"
	"github.com/draftroom/draftroom/storage"
)

// scrape fetches /metrics and parses it with the Prometheus text parser.
func (ls *liveServer) scrape(header http.Header) map[string]*dto.MetricFamily {
	ls.t.Helper()
	req, _ := http.NewRequest("GET", ls.http.URL+"/metrics", nil)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		ls.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		ls.t.Fatalf("GET /metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		ls.t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// value returns the value of the sample of family name whose labels
// include labels (name=value pairs): a counter's or gauge's value, a
// histogram's count.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	f := fams[name]
	if f == nil {
		t.Fatalf("no metric %s", name)
	}
next:
	for _, m := range f.Metric {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, l := range m.Label {
				found = found || (l.GetName() == labels[i] && l.GetValue() == labels[i+1])
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	t.Fatalf("no sample of %s with %v", name, labels)
	return 0
}

// TestMetrics: /metrics parses as Prometheus text and its counters move as
// ops are committed, refused, rate limited, and a slow subscriber is
// dropped.
func TestMetrics(t *testing.T) {
	st, err := storage.OpenBolt(filepath.Join(t.TempDir(), "draftroom.db"), storage.BoltOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ls := startServer(t, st, server.Config{SendQueue: 4, MaxDraftLen: 50_000_000, OpsPerSecond: 1000, OpsBurst: 1000})
	ls.srv.SetMetrics(metrics.Handler(ls.srv, st))
	before := ls.scrape(nil)
	for _, name := range []string{"draftroom_ops_committed_total", "draftroom_ack_latency_seconds", "draftroom_commit_latency_seconds", "draftroom_wal_bytes", "draftroom_checkpoint_duration_seconds", "draftroom_connections", "draftroom_commit_conflicts_total", "go_goroutines"} {
		if before[name] == nil {
			t.Errorf("no metric %s", name)
		}
	}
	if got := value(t, before, "draftroom_ops_committed_total"); got != 0 {
		t.Fatalf("ops committed before any op: %v", got)
	}

	ls.create("d", "")
	slow := ls.dialRawSmallBuffer() // its socket fills after a few frames
	slow.send(`{"type":"hello","client":"slow","delegation":"FRA","name":"Luc","role":"reviewer"}`)
	slow.expect("welcome")
	slow.send(`{"type":"open","doc":"d"}`)
	slow.expect("snapshot")
	// slow reads nothing from now on.

	w := ls.dialRaw()
	w.hello("drafter")
	w.send(`{"type":"open","doc":"d"}`)
	w.expect("snapshot")
	if got := value(t, ls.scrape(nil), "draftroom_connections"); got != 2 {
		t.Errorf("connections %v, want 2", got)
	}
	chunk := strings.Repeat("😭", 16<<10)
	acked, left := 0, false
	for seq := 1; seq <= 300 && !left; seq++ {
		w.send(`{"type":"op","doc":"d","rev":` + itoa(seq-1) + `,"seq":` + itoa(seq) + `,"op":["` + chunk + `"]}`)
		for {
			m, closed := w.next()
			if closed {
				t.Fatal("writer disconnected")
			}
			if m["type"] == "presence" && m["left"] == true {
				left = true
				continue
			}
			if m["type"] == "ack" {
				acked++
				break
			}
			t.Fatalf("writer got %v", m)
		}
	}
	if !left {
		t.Fatal("the subscriber that reads nothing was never dropped")
	}
	// Two refusals: an op ahead of the head, an op that does not apply.
	w.send(`{"type":"op","doc":"d","rev":99999,"seq":100000,"op":["x"]}`)
	if m := w.expect("error"); m["code"] != dr.CodeRevAhead {
		t.Fatalf("got %v, want rev_ahead", m)
	}
	w.send(`{"type":"op","doc":"d","rev":` + itoa(acked) + `,"seq":100001,"op":[999999999,"x"]}`)
	if m := w.expect("error"); m["code"] != dr.CodeBadOp {
		t.Fatalf("got %v, want bad_op", m)
	}

	after := ls.scrape(nil)
	if got := value(t, after, "draftroom_ops_committed_total"); got != float64(acked) {
		t.Errorf("ops committed %v, want %d", got, acked)
	}
	if got := value(t, after, "draftroom_ack_latency_seconds"); got != float64(acked) {
		t.Errorf("ack latency observations %v, want %d", got, acked)
	}
	if got := value(t, after, "draftroom_commit_latency_seconds"); got < 1 || got > float64(acked) {
		t.Errorf("commit latency observations %v, want 1..%d", got, acked)
	}
	if got := value(t, after, "draftroom_slow_disconnects_total"); got != 1 {
		t.Errorf("slow disconnects %v, want 1", got)
	}
	if got := value(t, after, "draftroom_fanout_frames_total"); got < 1 {
		t.Errorf("fan-out frames %v, want some (to the slow subscriber before it was dropped)", got)
	}
	for code, want := range map[string]float64{dr.CodeRevAhead: 1, dr.CodeBadOp: 1, dr.CodeRateLimited: 0} {
		if got := value(t, after, "draftroom_ops_refused_total", "code", code); got != want {
			t.Errorf("ops refused with %s: %v, want %v", code, got, want)
		}
	}

	// Rate limits: a burst of messages beyond the bucket.
	rl := startServer(t, storage.NewMemory(), server.Config{MsgsPerSecond: 1, MsgsBurst: 2, MaxRefusedPerSecond: 1000})
	rl.srv.SetMetrics(metrics.Handler(rl.srv, nil))
	c := rl.dialRaw()
	c.hello("drafter")
	refused := 0
	for range 10 {
		c.send(`{"type":"presence","doc":"nope","sel":[]}`)
	}
	for refused == 0 {
		if m, closed := c.next(); closed {
			t.Fatal("closed")
		} else if m["code"] == dr.CodeRateLimited {
			refused++
		}
	}
	if got := value(t, rl.scrape(nil), "draftroom_rate_limited_total"); got < 1 {
		t.Errorf("rate limited %v, want at least 1", got)
	}
}

// TestMetricsAccess: a metrics token is required when set; metrics on by
// default are not served to proxied requests; without SetMetrics,
// /metrics is not found.
func TestMetricsAccess(t *testing.T) {
	t.Parallel()
	get := func(ls *liveServer, h http.Header) int {
		req, _ := http.NewRequest("GET", ls.http.URL+"/metrics", nil)
		for k, v := range h {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	off := startServer(t, storage.NewMemory(), server.Config{})
	if got := get(off, nil); got != http.StatusNotFound {
		t.Errorf("without metrics: %d, want 404", got)
	}
	byDefault := startServer(t, storage.NewMemory(), server.Config{MetricsByDefault: true})
	byDefault.srv.SetMetrics(metrics.Handler(byDefault.srv, nil))
	if got := get(byDefault, nil); got != http.StatusOK {
		t.Errorf("local scrape: %d, want 200", got)
	}
	for _, h := range []string{"Forwarded", "X-Forwarded-For"} {
		if got := get(byDefault, http.Header{h: {"for=203.0.113.9"}}); got != http.StatusUnauthorized {
			t.Errorf("scrape with %s: %d, want 401", h, got)
		}
	}
	withToken := startServer(t, storage.NewMemory(), server.Config{MetricsToken: "s3cret"})
	withToken.srv.SetMetrics(metrics.Handler(withToken.srv, nil))
	for h, want := range map[string]int{"": 401, "Bearer nope": 401, "Bearer s3cret": 200} {
		hdr := http.Header{}
		if h != "" {
			hdr.Set("Authorization", h)
		}
		if got := get(withToken, hdr); got != want {
			t.Errorf("Authorization %q: %d, want %d", h, got, want)
		}
	}
}

// TestOpenModeByDefault: open mode chosen by default serves local
// requests and hellos, refuses those with proxy headers (unauthorized),
// and ends when a token is issued; explicit open mode serves both.
func TestOpenModeByDefault(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		byDefault     bool
		proxiedServed bool
	}{
		{"by default", true, false},
		{"explicit -open", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := storage.NewMemory()
			srv := server.New(server.Config{Open: true, OpenByDefault: tc.byDefault, ModeReason: "test", Auth: server.NewTokenAuth(st, nil)}, st, nil)
			ls := &liveServer{t: t, srv: srv, http: serveHTTP(t, srv), store: st}
			status := func(h http.Header) int {
				req, _ := http.NewRequest("GET", ls.http.URL+"/api/docs", nil)
				for k, v := range h {
					req.Header[k] = v
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			if got := status(nil); got != http.StatusOK {
				t.Fatalf("local request: %d", got)
			}
			wantProxied := http.StatusUnauthorized
			if tc.proxiedServed {
				wantProxied = http.StatusOK
			}
			for _, h := range []string{"Forwarded", "X-Forwarded-For"} {
				if got := status(http.Header{h: {"for=198.51.100.7"}}); got != wantProxied {
					t.Errorf("request with %s: %d, want %d", h, got, wantProxied)
				}
			}
			// The same over WebSocket.
			ws, _, err := websocket.DefaultDialer.Dial(ls.wsURL(), http.Header{"X-Forwarded-For": {"198.51.100.7"}})
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			rc := &rawConn{t, ws}
			rc.send(`{"type":"hello","client":"px","delegation":"CAN","name":"Ana","role":"drafter"}`)
			m, _ := rc.next()
			if tc.proxiedServed != (m["type"] == "welcome") {
				t.Errorf("proxied hello got %v", m)
			}
			if !tc.proxiedServed && m["code"] != dr.CodeUnauthorized {
				t.Errorf("proxied hello got %v, want unauthorized", m)
			}
			// A token put in the store while the server runs (draftroom
			// token issue -redis), once used, ends open mode chosen by default.
			secret, _, err := auth.Issue(context.Background(), st, auth.Request{Delegation: "CAN", Name: "Ana", Role: "drafter"}, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if got := status(http.Header{"Authorization": {"Bearer " + secret}}); got != http.StatusOK {
				t.Fatalf("request with the token: %d", got)
			}
			wantLocal := http.StatusOK
			if tc.byDefault {
				wantLocal = http.StatusUnauthorized
			}
			if got := status(nil); got != wantLocal {
				t.Errorf("local request after a token was issued: %d, want %d", got, wantLocal)
			}
			var h struct {
				Mode       string `json:"mode"`
				ModeReason string `json:"mode_reason"`
			}
			ls.do("GET", "/healthz", nil, &h)
			if wantMode := map[bool]string{true: "tokens", false: "open"}[tc.byDefault]; h.Mode != wantMode {
				t.Errorf("healthz mode %q (%s), want %s", h.Mode, h.ModeReason, wantMode)
			}
		})
	}
}

// TestHealthzDraining: /healthz answers 200 with its details, then 503
// once the server drains, while other requests are still served.
func TestHealthzDraining(t *testing.T) {
	t.Parallel()
	ls := startServer(t, storage.NewMemory(), server.Config{ModeReason: "test reason"})
	var h struct {
		Status, Mode string
		ModeReason   string `json:"mode_reason"`
		Draining     bool
		Store        struct{ OK bool }
	}
	if code := ls.do("GET", "/healthz", nil, &h); code != http.StatusOK || h.Status != "ok" || h.Mode != "open" || h.ModeReason != "test reason" || !h.Store.OK || h.Draining {
		t.Fatalf("healthz %d %+v", code, h)
	}
	ls.srv.Drain()
	if code := ls.do("GET", "/healthz", nil, &h); code != http.StatusServiceUnavailable || h.Status != "draining" || !h.Draining {
		t.Fatalf("draining healthz %d %+v", code, h)
	}
	if code := ls.do("GET", "/api/docs", nil, nil); code != http.StatusOK {
		t.Errorf("while draining, /api/docs: %d", code)
	}
}

// TestBackupEndpoint: a facilitator downloads a copy that verifies and
// holds the acked ops; other roles and the Redis-less memory store are
// refused with clear codes.
func TestBackupEndpoint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := storage.OpenBolt(filepath.Join(t.TempDir(), "draftroom.db"), storage.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ls := startServer(t, st, server.Config{BackupScratch: t.TempDir()})
	ls.create("d", "abc")
	_, doc := dialOpen(t, ctx, ls.wsURL(), client.Options{Delegation: "CAN", Name: "Ana", Role: "drafter"}, "d")
	for i := range 20 {
		if err := doc.Insert(i, "x"); err != nil {
			t.Fatal(err)
		}
	}
	if err := doc.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	code, data, _ := ls.roundTrip(&who{"CAN", "Ana", "drafter"}, "GET", "/api/admin/backup", nil)
	if code != http.StatusForbidden {
		t.Errorf("a drafter's backup: %d %s", code, data)
	}
	code, data, ctype := ls.roundTrip(nil, "GET", "/api/admin/backup", nil)
	if code != http.StatusOK || ctype != "application/octet-stream" {
		t.Fatalf("backup: %d %s %.200s", code, ctype, data)
	}
	path := filepath.Join(t.TempDir(), "draftroom.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	rep, err := storage.VerifyBolt(path)
	if err != nil || rep.Drafts != 1 || rep.Ops != doc.Rev() {
		t.Fatalf("the downloaded copy: %+v %v", rep, err)
	}
	mem := startServer(t, storage.NewMemory(), server.Config{})
	if code, data, _ := mem.roundTrip(nil, "GET", "/api/admin/backup", nil); code != http.StatusBadRequest || !strings.Contains(string(data), "RDB") {
		t.Errorf("backup of a store that cannot: %d %s", code, data)
	}
}

// sickStore is a store that is up but refuses writes (as Bolt after a
// failed fsync).
type sickStore struct{ *storage.Memory }

func (sickStore) Health() error { return errors.New("write-ahead log sync failed") }

// TestHealthzStoreUnhealthy: a store that refuses writes makes /healthz
// answer 503 "unhealthy", saying why.
func TestHealthzStoreUnhealthy(t *testing.T) {
	t.Parallel()
	ls := startServer(t, sickStore{storage.NewMemory()}, server.Config{})
	var h struct {
		Status string
		Store  struct {
			OK    bool
			Error string
		}
	}
	if code := ls.do("GET", "/healthz", nil, &h); code != http.StatusServiceUnavailable || h.Status != "unhealthy" || h.Store.OK || h.Store.Error != "the store refuses writes (see the server log)" {
		t.Fatalf("healthz %d %+v", code, h)
	}
}

// conflictOnce is a store whose first Commit loses to "another node"
// (ErrRevConflict, nothing written), as a Redis commit race would.
type conflictOnce struct {
	*storage.Memory
	lost atomic.Bool
}

func (s *conflictOnce) Commit(ctx context.Context, id string, base int, c dr.Commit) error {
	if s.lost.CompareAndSwap(false, true) {
		return fmt.Errorf("forced: %w", storage.ErrRevConflict)
	}
	return s.Memory.Commit(ctx, id, base, c)
}

// TestMetricsConflicts: a commit another node won is counted as a
// conflict and its retry as a retry; the op is still committed once.
func TestMetricsConflicts(t *testing.T) {
	t.Parallel()
	st := &conflictOnce{Memory: storage.NewMemory()}
	ls := startServer(t, st, server.Config{})
	ls.srv.SetMetrics(metrics.Handler(ls.srv, nil))
	ls.create("d", "abc")
	w := ls.dialRaw()
	w.hello("drafter")
	w.send(`{"type":"open","doc":"d"}`)
	w.expect("snapshot")
	w.send(`{"type":"op","doc":"d","rev":0,"seq":1,"op":[3,"!"]}`)
	if m := w.expect("ack"); m["rev"] != 1.0 {
		t.Fatalf("ack %v", m)
	}
	fams := ls.scrape(nil)
	for name, want := range map[string]float64{"draftroom_commit_conflicts_total": 1, "draftroom_commit_retries_total": 1, "draftroom_ops_committed_total": 1, "draftroom_store_errors_total": 0} {
		if got := value(t, fams, name); got != want {
			t.Errorf("%s %v, want %v", name, got, want)
		}
	}
}

// fixedBackups reports a fixed backup status.
type fixedBackups storage.BackupStatus

func (f fixedBackups) BackupStatus() storage.BackupStatus { return storage.BackupStatus(f) }

// TestBackupStatusShown: the periodic backups' status is in /healthz and
// in /metrics.
func TestBackupStatusShown(t *testing.T) {
	t.Parallel()
	last := time.Date(2026, 12, 4, 15, 4, 5, 0, time.UTC)
	ls := startServer(t, storage.NewMemory(), server.Config{Backups: fixedBackups{Dir: "/b", LastFile: "/b/draftroom-x.db", LastOK: last, LastError: "open /b/x: disk full", Failures: 2}})
	ls.srv.SetMetrics(metrics.Handler(ls.srv, nil))
	var h struct {
		Backup struct {
			Dir       string
			LastFile  string    `json:"last_file"`
			LastOK    time.Time `json:"last_ok"`
			LastError string    `json:"last_error"`
			Failures  int
		}
	}
	ls.do("GET", "/healthz", nil, &h)
	if h.Backup.Dir != "" || h.Backup.LastFile != "draftroom-x.db" || !h.Backup.LastOK.Equal(last) || h.Backup.LastError != "the last backup failed (see the server log)" || h.Backup.Failures != 2 {
		t.Errorf("healthz backup %+v", h.Backup)
	}
	fams := ls.scrape(nil)
	if got := value(t, fams, "draftroom_backup_last_success_timestamp_seconds"); got != float64(last.Unix()) {
		t.Errorf("last success %v, want %v", got, last.Unix())
	}
	if got := value(t, fams, "draftroom_backup_failures"); got != 2 {
		t.Errorf("failures %v, want 2", got)
	}
}
