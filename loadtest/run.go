package loadtest

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/draftroom/draftroom/client"
)

// Timeouts of the setup and teardown phases.
const (
	dialTimeout = 30 * time.Second
	httpTimeout = 30 * time.Second
	closeWait   = 30 * time.Second
)

// run is the state of one Run.
type run struct {
	cfg     Config
	drafts  []string
	httpURL []string // per server
	wsURL   []string
	tag     string // random, in client ids: runs never share a client id
	epoch   time.Time
	http    *http.Client

	writers []*writer
	readers []*reader
	byID    map[string]uint32 // writer client id → index; read-only once built

	ack, ackWire, fanout, fanoutLast, commit Histogram
	track                                    *tracker

	edits, ops, disconnects, resyncs atomic.Int64

	errMu  sync.Mutex
	errors map[string]int64
}

// Run runs a load test against cfg.URLs and returns its report. It creates
// missing drafts, connects every client (an error if any cannot), runs
// the warm-up and the measured window, stops the writers, waits (at most
// cfg.Quiesce) for every client to catch up, and checks convergence: the
// report and an error wrapping ErrDiverged when some client or server URL
// did not converge. It returns when done or when ctx ends (then with
// ctx's error).
func Run(ctx context.Context, cfg Config) (Report, error) {
	cfg = cfg.Defaults()
	if err := cfg.validate(); err != nil {
		return Report{}, err
	}
	r := &run{cfg: cfg, epoch: time.Now(), errors: map[string]int64{},
		http: &http.Client{Timeout: httpTimeout}, byID: map[string]uint32{}}
	var tag [3]byte
	crand.Read(tag[:])
	r.tag = hex.EncodeToString(tag[:])
	for _, u := range cfg.URLs {
		h, w, _ := endpoints(u)
		r.httpURL, r.wsURL = append(r.httpURL, h), append(r.wsURL, w)
	}
	for i := range cfg.Drafts {
		r.drafts = append(r.drafts, fmt.Sprintf("%s%d", cfg.Prefix, i))
	}
	r.track = newTracker(r.epoch, &r.fanout, &r.fanoutLast, &r.commit)
	defer r.closeAll()

	rep := Report{Mode: cfg.Mode, Drafts: cfg.Drafts, Writers: cfg.Writers, Readers: cfg.Readers,
		Servers: len(cfg.URLs), LoadAvg: loadAverage(), ServerPID: cfg.ServerPID}
	if cfg.Mode == ModeRate {
		rep.Rate = cfg.Rate
	}

	cfg.Progress("creating %d drafts", cfg.Drafts)
	if err := r.createDrafts(ctx); err != nil {
		return rep, err
	}
	cfg.Progress("connecting %d writers and %d readers", cfg.Writers, cfg.Readers)
	start := time.Now()
	if err := r.connect(ctx); err != nil {
		return rep, err
	}
	rep.Connect = round3(time.Since(start).Seconds())
	cfg.Progress("connected in %.1fs", rep.Connect)

	// The window starts after the warm-up; writers stop at its end.
	from := time.Since(r.epoch) + max(cfg.Warmup, 0)
	to := from + cfg.Duration
	r.track.setWindow(from, to)
	wctx, cancel := context.WithDeadline(ctx, r.epoch.Add(to))
	defer cancel()
	var wg sync.WaitGroup
	for _, w := range r.writers {
		wg.Go(func() { w.loop(wctx) })
	}

	var samples [2]sample
	for i, at := range []time.Duration{from, to} {
		select {
		case <-time.After(time.Until(r.epoch.Add(at))):
		case <-ctx.Done():
			cancel()
			wg.Wait()
			return rep, ctx.Err()
		}
		if i == 0 {
			cfg.Progress("warm-up done; measuring for %s", cfg.Duration)
		}
		samples[i] = r.sample()
	}
	cancel()
	wg.Wait()
	r.fill(&rep, samples)

	cfg.Progress("quiescing (at most %s)", cfg.Quiesce)
	qctx, qcancel := context.WithTimeout(ctx, cfg.Quiesce)
	defer qcancel()
	r.converge(qctx, &rep)
	r.counts(&rep)
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	if !rep.Converged {
		first := ""
		if len(rep.Diverged) > 0 {
			first = rep.Diverged[0]
		}
		return rep, fmt.Errorf("%w: %s", ErrDiverged, first)
	}
	return rep, nil
}

// sample is a reading of the CPU clocks.
type sample struct {
	at        time.Time
	self, srv time.Duration
	srvErr    error
	rss, peak int64
	srvMemErr error
	disk      int64
	diskErr   error
	hasServer bool
}

func (r *run) sample() sample {
	s := sample{at: time.Now(), self: selfCPU()}
	if pid := r.cfg.ServerPID; pid > 0 {
		s.hasServer = true
		s.srv, s.srvErr = procCPU(pid)
		s.rss, s.peak, s.srvMemErr = procMem(pid)
		s.disk, s.diskErr = procDiskWrites(pid)
	}
	return s
}

// fill puts the counters and the window's CPU figures into rep.
func (r *run) fill(rep *Report, s [2]sample) {
	secs := s[1].at.Sub(s[0].at).Seconds()
	rep.Seconds = round3(secs)
	tool := s[1].self - s[0].self
	rep.ToolCPU = round3(tool.Seconds())
	rep.ToolCPUPct = round3(100 * tool.Seconds() / secs)
	if !s[1].hasServer {
		return
	}
	if err := errors.Join(s[0].srvErr, s[1].srvErr, s[1].srvMemErr); err != nil {
		rep.ServerErr = err.Error()
	}
	if s[0].srvErr == nil && s[1].srvErr == nil {
		cpu := s[1].srv - s[0].srv
		rep.ServerCPU = round3(cpu.Seconds())
		rep.ServerCPUPct = round3(100 * cpu.Seconds() / secs)
	}
	if s[0].diskErr == nil && s[1].diskErr == nil {
		rep.ServerDiskMB = round3(float64(s[1].disk-s[0].disk) / (1 << 20))
	}
	if s[1].srvMemErr == nil {
		rep.ServerRSSMB = round3(float64(s[1].rss) / (1 << 20))
		rep.ServerPeakMB = round3(float64(s[1].peak) / (1 << 20))
		if n := r.cfg.Writers + r.cfg.Readers; n > 0 {
			rep.ServerKBPerConn = round3(float64(s[1].rss) / 1024 / float64(n))
		}
	}
}

// counts puts the counters and latencies into rep. It runs after
// quiescing: the ops sent near the end of the window are acked and
// delivered after it, and they count.
func (r *run) counts(rep *Report) {
	rep.Edits, rep.Ops = r.edits.Load(), r.ops.Load()
	rep.OpsPerS = round3(float64(rep.Ops) / rep.Seconds)
	if rep.Ops > 0 {
		rep.EditsPer = round3(float64(rep.Edits) / float64(rep.Ops))
	}
	rep.Ack, rep.AckWire = r.ack.Summary(), r.ackWire.Summary()
	rep.Fanout, rep.FanoutLast = r.fanout.Summary(), r.fanoutLast.Summary()
	rep.Commit = r.commit.Summary()
	rep.Deliveries = r.track.deliveries.Load()
	rep.FanoutIncomplete = r.track.incomplete()
	// Deliveries of the ops sent in the window against the server's CPU
	// over the window: the same work, give or take the ops in flight at
	// either edge.
	if rep.ServerCPU > 0 && rep.Deliveries > 0 {
		rep.ServerUSPerDelivery = round3(rep.ServerCPU * 1e6 / float64(rep.Deliveries))
	}
	rep.Disconnects, rep.Resyncs = r.disconnects.Load(), r.resyncs.Load()
	r.errMu.Lock()
	rep.Errors = make(map[string]int64, len(r.errors))
	for k, v := range r.errors {
		rep.Errors[k] = v
	}
	r.errMu.Unlock()
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// inWindow reports whether t (on the run's clock) is in the measured window.
func (r *run) inWindow(t time.Time) bool {
	return r.track.inWindow(t.Sub(r.epoch))
}

func (r *run) countError(code string) {
	r.errMu.Lock()
	r.errors[code]++
	r.errMu.Unlock()
}

// commonEvent counts what every client reports: op arrivals (for fan-out),
// server errors, disconnects and resyncs.
func (r *run) commonEvent(e client.Event) {
	switch e.Type {
	case client.EventOp:
		if w, ok := r.byID[e.Client]; ok {
			r.track.arrived(opKey{writer: w, seq: e.Seq}, e.TS, time.Now())
		}
	case client.EventError:
		r.countError(e.Code)
	case client.EventDisconnect:
		r.disconnects.Add(1)
	case client.EventResync:
		r.resyncs.Add(1)
	}
}

// subscribers is how many clients (writers and readers) work on draft k.
func (r *run) subscribers(k int) int {
	return share(r.cfg.Writers, k, len(r.drafts)) + share(r.cfg.Readers, k, len(r.drafts))
}

// share is how many of n items dealt round-robin over m places land on k.
func share(n, k, m int) int {
	c := n / m
	if k < n%m {
		c++
	}
	return c
}

// createDrafts creates the drafts that do not exist yet.
func (r *run) createDrafts(ctx context.Context) error {
	text := NewEditor(r.cfg.Seed, r.cfg.TextLen).Text(r.cfg.TextLen)
	for _, id := range r.drafts {
		body, _ := json.Marshal(map[string]string{"id": id, "title": "Load test " + id, "text": text})
		status, msg, err := r.request(ctx, http.MethodPost, r.httpURL[0]+"/api/docs", body, nil)
		if err != nil {
			return fmt.Errorf("%w: create %s: %w", ErrSetup, id, err)
		}
		if status != http.StatusCreated && status != http.StatusConflict {
			return fmt.Errorf("%w: create %s: HTTP %d: %s", ErrSetup, id, status, msg)
		}
	}
	return nil
}

// request makes an HTTP request with the run's credential and decodes a
// JSON answer into out (when 2xx and out is not nil). It returns the
// status and, on other statuses, the body for the error message.
func (r *run) request(ctx context.Context, method, u string, body []byte, out any) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	if body != nil || method != http.MethodGet {
		req.Header.Set("Content-Type", "application/json") // open mode refuses other writes
	}
	if r.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.cfg.Token)
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return resp.StatusCode, "", err
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, string(bytes.TrimSpace(b[:min(len(b), 300)])), nil
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, "", fmt.Errorf("decode %s: %w", u, err)
		}
	}
	return resp.StatusCode, "", nil
}

// connect dials every client and opens its draft, DialConcurrency at a
// time. Any failure fails the run: a benchmark with missing clients would
// report figures for a load nobody asked for.
func (r *run) connect(ctx context.Context) error {
	for i := range r.cfg.Writers {
		k := i % len(r.drafts)
		w := &writer{r: r, idx: uint32(i), doc: r.drafts[k], want: r.subscribers(k) - 1,
			ed: NewEditor(r.cfg.Seed+uint64(i)+1, r.cfg.TextLen), ackCh: make(chan struct{}, 1),
			id: fmt.Sprintf("lw%d-%s", i, r.tag)}
		r.writers = append(r.writers, w)
		r.byID[w.id] = w.idx
	}
	for i := range r.cfg.Readers {
		r.readers = append(r.readers, &reader{r: r, doc: r.drafts[i%len(r.drafts)], id: fmt.Sprintf("lr%d-%s", i, r.tag)})
	}
	// The first failure cancels the others: with thousands of clients,
	// waiting out every dial's timeout would take hours.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan func() error)
	var failed atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range r.cfg.DialConcurrency {
		wg.Go(func() {
			for job := range jobs {
				if ctx.Err() != nil {
					continue
				}
				if err := job(); err != nil {
					failed.Add(1)
					once.Do(func() { firstErr = err; cancel() })
				}
			}
		})
	}
	n := 0
	for i, w := range r.writers {
		w.node = n % len(r.wsURL)
		url := r.wsURL[w.node]
		n++
		opts := client.Options{ClientID: w.id, Delegation: fmt.Sprintf("D%03d", i%190+1), Name: fmt.Sprintf("w%d", i), Role: "drafter", OnEvent: w.event}
		jobs <- func() (err error) { w.c, w.d, err = r.dial(ctx, url, w.doc, opts); return err }
	}
	for i, rd := range r.readers {
		rd.node = n % len(r.wsURL)
		url := r.wsURL[rd.node]
		n++
		opts := client.Options{ClientID: rd.id, Delegation: "OBS", Name: fmt.Sprintf("r%d", i), Role: "reviewer", OnEvent: r.commonEvent}
		jobs <- func() (err error) { rd.c, rd.d, err = r.dial(ctx, url, rd.doc, opts); return err }
	}
	close(jobs)
	wg.Wait()
	if n := failed.Load(); n > 0 {
		return fmt.Errorf("%w: %d of %d clients could not connect (the rest were not tried); first: %w", ErrSetup, n, len(r.writers)+len(r.readers), firstErr)
	}
	return ctx.Err()
}

func (r *run) dial(ctx context.Context, url, doc string, opts client.Options) (*client.Client, *client.Doc, error) {
	if r.cfg.Token != "" {
		opts.Token, opts.Delegation, opts.Name, opts.Role = r.cfg.Token, "", "", ""
	}
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	c, err := client.Dial(ctx, url, opts)
	if err != nil {
		return nil, nil, err
	}
	d, err := c.Open(ctx, doc)
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	return c, d, nil
}

// closeAll closes every connected client, DialConcurrency at a time, and
// gives up waiting after closeWait (a client that does not close must not
// keep the tool from reporting).
func (r *run) closeAll() {
	var cs []*client.Client
	for _, w := range r.writers {
		if w.c != nil {
			cs = append(cs, w.c)
		}
	}
	for _, rd := range r.readers {
		if rd.c != nil {
			cs = append(cs, rd.c)
		}
	}
	jobs := make(chan *client.Client)
	var wg sync.WaitGroup
	for range r.cfg.DialConcurrency {
		wg.Go(func() {
			for c := range jobs {
				c.Close()
			}
		})
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer wg.Wait()
		defer close(jobs)
		deadline := time.After(closeWait)
		for _, c := range cs {
			select {
			case jobs <- c:
			case <-deadline:
				return
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(closeWait + time.Second):
		r.cfg.Progress("some clients did not close within %s", closeWait)
	}
}

// converge waits for the writers' edits to be acked, asks every server
// URL for every draft until the URLs agree (see heads), waits for every
// client to reach the revision of its URL, and compares texts. It fills
// the convergence fields of rep.
func (r *run) converge(ctx context.Context, rep *Report) {
	for _, w := range r.writers {
		w.d.WaitSynced(ctx) // a timeout shows as Pending below
	}
	start := time.Now()
	server, fetchProblems := r.heads(ctx)
	rep.NodesAgreeMS = round3(float64(time.Since(start).Microseconds()) / 1000)
	disagree, agreeProblems := Agree(r.httpURL, r.drafts, server)

	rep.Nodes = make([]NodeCheck, len(r.httpURL))
	for i, u := range r.httpURL {
		rep.Nodes[i] = NodeCheck{URL: u, Agree: !disagree[u]}
	}
	var views []ClientText
	view := func(id, doc string, node int, d *client.Doc) {
		u := r.httpURL[node]
		if s, ok := server[DraftAt{URL: u, Doc: doc}]; ok {
			d.WaitRev(ctx, s.Rev) // a timeout shows as a revision mismatch
		}
		v := ClientText{Client: id, URL: u, Doc: doc, Rev: d.Rev(), Text: d.Text(), Pending: d.Pending()}
		if err := d.Err(); err != nil {
			v.Err = err.Error()
		}
		views = append(views, v)
		rep.Nodes[node].Clients++
		if mismatch(server, v) != "" {
			rep.Nodes[node].Diverged++
		}
	}
	for _, w := range r.writers {
		view(w.id, w.doc, w.node, w.d)
	}
	for _, rd := range r.readers {
		view(rd.id, rd.doc, rd.node, rd.d)
	}
	ok, diverged := Converge(server, views)
	rep.Checked = len(views)
	rep.NodesAgree = len(disagree) == 0 && len(fetchProblems) == 0
	rep.Converged = ok && rep.NodesAgree
	rep.Diverged = append(append(fetchProblems, agreeProblems...), diverged...)
}

// Backoff of heads between asking the server URLs again.
const (
	headsFirstWait = 5 * time.Millisecond
	headsMaxWait   = 200 * time.Millisecond
)

// heads asks every server URL for every draft (GET /api/docs/{id}) and
// returns the answers, and the requests that failed in the last round.
// Nodes sharing a store learn of another node's commit by pub/sub, a
// moment after its writer got the ack, so with several URLs it asks again
// for the drafts whose answers differ (or failed) until all agree or ctx
// ends. Writers have stopped by then: answers that agree are final.
func (r *run) heads(ctx context.Context) (map[DraftAt]ServerText, []string) {
	server := map[DraftAt]ServerText{}
	todo := r.drafts
	wait := headsFirstWait
	for {
		var p problems
		var again []string
		for _, doc := range todo {
			failed := false
			for _, u := range r.httpURL {
				var v struct {
					Rev  int    `json:"rev"`
					Text string `json:"text"`
				}
				at := DraftAt{URL: u, Doc: doc}
				status, msg, err := r.request(ctx, http.MethodGet, u+"/api/docs/"+url.PathEscape(doc), nil, &v)
				if err != nil || status != http.StatusOK {
					failed = true
					if _, had := server[at]; had && ctx.Err() != nil {
						// The quiesce time ran out while another URL still
						// disagreed: this URL's last answer stands.
						continue
					}
					p.add("GET %s from %s: HTTP %d %s %v", doc, u, status, msg, err)
					delete(server, at)
					continue
				}
				server[at] = ServerText{Rev: v.Rev, Text: v.Text}
			}
			if disagree, _ := Agree(r.httpURL, []string{doc}, server); failed || len(disagree) > 0 {
				again = append(again, doc)
			}
		}
		if len(again) == 0 || len(r.httpURL) == 1 || ctx.Err() != nil {
			return server, p.sorted()
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return server, p.sorted()
		}
		wait = min(2*wait, headsMaxWait)
		todo = again
	}
}

// reader is an observer: it only receives.
type reader struct {
	r    *run
	id   string
	doc  string
	node int // index of its server URL
	c    *client.Client
	d    *client.Doc
}

// writer is a simulated drafter.
type writer struct {
	r     *run
	idx   uint32
	id    string
	doc   string
	node  int // index of its server URL
	want  int // the draft's other subscribers: arrivals expected per op
	ed    *Editor
	c     *client.Client
	d     *client.Doc
	ackCh chan struct{} // an ack (or a resync) happened; capacity 1

	mu          sync.Mutex
	unsent      time.Time // the earliest local edit not yet sent, or zero
	unsentN     int64     // local edits not yet sent
	lastSent    uint64    // the highest seq sent: lower or equal is a resend
	flightSeq   uint64    // the op in flight
	flightEdits time.Time // the earliest edit it carries
}

// event is the writer client's OnEvent: it also tracks its own sends and
// acks.
func (w *writer) event(e client.Event) {
	r := w.r
	switch e.Type {
	case client.EventSent:
		w.mu.Lock()
		if e.Seq <= w.lastSent {
			w.mu.Unlock()
			return // a resend after a reconnect: the first send counts
		}
		w.lastSent = e.Seq
		w.flightSeq, w.flightEdits = e.Seq, w.unsent
		if w.flightEdits.IsZero() {
			w.flightEdits = e.Sent
		}
		edits := max(w.unsentN, 1)
		w.unsent, w.unsentN = time.Time{}, 0
		w.mu.Unlock()
		if r.inWindow(e.Sent) {
			r.edits.Add(edits)
		}
		r.track.sent(opKey{writer: w.idx, seq: e.Seq}, e.Sent, w.want)
	case client.EventAck:
		now := time.Now()
		w.mu.Lock()
		edits := e.Sent
		if w.flightSeq == e.Seq {
			edits = w.flightEdits
		}
		w.mu.Unlock()
		if r.inWindow(e.Sent) {
			r.ops.Add(1)
			r.ackWire.Record(now.Sub(e.Sent))
			r.ack.Record(now.Sub(edits))
		}
		w.signal()
	case client.EventResync, client.EventOpened:
		w.signal()
	}
	r.commonEvent(e)
}

func (w *writer) signal() {
	select {
	case w.ackCh <- struct{}{}:
	default:
	}
}

// loop edits until ctx ends: at the configured rate, or (saturate) each
// time the previous op is acked.
func (w *writer) loop(ctx context.Context) {
	if w.r.cfg.Mode == ModeSaturate {
		for ctx.Err() == nil {
			// Drop a stale signal, so the wait below is for this edit's ack.
			select {
			case <-w.ackCh:
			default:
			}
			made, stopped := w.edit()
			if stopped {
				return
			}
			if !made {
				continue
			}
			select {
			case <-w.ackCh:
			case <-ctx.Done():
			}
		}
		return
	}
	interval := time.Duration(float64(time.Second) / w.r.cfg.Rate)
	// A random phase, so that writers do not edit in lockstep.
	next := time.Now().Add(time.Duration(rand.Int64N(int64(interval))))
	timer := time.NewTimer(time.Until(next))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		if _, stopped := w.edit(); stopped {
			return
		}
		next = next.Add(interval)
		if now := time.Now(); next.Before(now) {
			next = now // fell behind (a starved machine): do not burst
		}
		timer.Reset(time.Until(next))
	}
}

// edit makes one edit. made: an op was applied locally; stopped: the draft
// is gone (the client was closed or refused).
func (w *writer) edit() (made, stopped bool) {
	now := time.Now()
	w.mu.Lock()
	mine := w.unsent.IsZero()
	if mine {
		w.unsent = now
	}
	w.unsentN++
	w.mu.Unlock()
	err := w.d.Edit(w.ed.Next(w.d.Len()))
	if err != nil {
		w.mu.Lock()
		if mine && w.unsent.Equal(now) {
			w.unsent = time.Time{}
		}
		w.unsentN = max(w.unsentN-1, 0)
		w.mu.Unlock()
		// A remote op can shorten the text between Len and Edit; that edit
		// is simply not made. A stopped draft ends the writer.
		return false, w.d.Err() != nil
	}
	return true, false
}
