package server

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/history"
	"github.com/draftroom/draftroom/internal/traces"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/storage"
)

// benchPeople take turns typing the trace, 1000 edits each.
var benchPeople = []dr.Author{{Delegation: "CAN", Name: "Ana"}, {Delegation: "USA", Name: "Bob"}, {Delegation: "EGY", Name: "Omar"}}

// loadTraceOps reads a sequential editing trace as a committed history:
// the delegations of benchPeople taking turns every 1000 edits, 150 ms
// between keystrokes and a pause of 4 s every 37, and every 5000th
// revision a bracket proposal (a server-built op with its record). It
// skips when the shared traces are not on this machine.
func loadTraceOps(tb testing.TB, name string) (start, end string, ops []dr.Op) {
	tb.Helper()
	raw := traces.Load(tb, name)
	ts := int64(1795000000000)
	for _, p := range raw.Patches {
		var op ot.Op
		if p.Pos > 0 {
			op = append(op, ot.Skip(p.Pos))
		}
		if p.Ins != "" {
			op = append(op, ot.Insert(p.Ins))
		}
		if p.Del > 0 {
			op = append(op, ot.Delete(p.Del))
		}
		i := len(ops)
		by := benchPeople[(i/1000)%len(benchPeople)]
		ts += 150
		if i%37 == 0 {
			ts += 4000
		}
		o := dr.Op{Rev: i + 1, Op: ot.Normalize(op), Client: "c-" + by.Delegation, Seq: uint64(i + 1),
			Principal: dr.OpenPrincipal(by.Delegation, by.Name), By: by, TS: ts}
		if (i+1)%5000 == 0 {
			o.Kind, o.Client, o.Principal, o.Seq = dr.KindPropose, SystemClient, SystemPrincipal, uint64(i+1)
		}
		ops = append(ops, o)
	}
	return raw.Start, raw.End, ops
}

// buildTraceStore writes a trace into a Bolt store as draft "paper", the
// way the server would have: ops committed in batches of SnapshotEvery
// with a snapshot at the end of each, carrying the Meta sections of every
// registered observer (authorship, brackets), computed by the observers
// themselves as they follow the ops.
func buildTraceStore(tb testing.TB, path, start string, ops []dr.Op, every int) *storage.Bolt {
	tb.Helper()
	ctx := context.Background()
	st, err := storage.OpenBolt(path, storage.BoltOptions{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	info := dr.Draft{ID: "paper", Title: "A Conflict-Free Replicated JSON Datatype", Created: ops[0].TS - 60_000,
		By: dr.Author{Delegation: "CHAIR", Name: "Maria"}}
	if err := st.CreateDraft(ctx, info, start); err != nil {
		tb.Fatal(err)
	}
	snap0 := dr.Snapshot{Rev: 0, Text: start}
	var obs []Observer
	for _, nf := range observers() {
		o, err := nf.f(info, snap0)
		if err != nil {
			tb.Fatal(err)
		}
		obs = append(obs, o)
	}
	text := ot.NewText(start)
	for base := 0; base < len(ops); base += every {
		batch := ops[base:min(base+every, len(ops))]
		c := dr.Commit{Ops: batch}
		for _, op := range batch {
			if _, err := text.Apply(op.Op); err != nil {
				tb.Fatalf("op %d: %v", op.Rev, err)
			}
			for _, o := range obs {
				o.ApplyOp(op, text)
			}
			if op.Kind == dr.KindPropose {
				c.Proposals = append(c.Proposals, dr.Proposal{Draft: "paper", Group: "b1.0", Alternative: 1, Text: "x", By: op.By, Rev: op.Rev, TS: op.TS})
			}
		}
		snap := dr.Snapshot{Rev: batch[len(batch)-1].Rev, Text: text.String(), Meta: map[string]json.RawMessage{}}
		for _, o := range obs {
			if name, data := o.Meta(); data != nil {
				snap.Meta[name] = data
			}
		}
		c.Snapshots = []dr.Snapshot{snap}
		if err := st.Commit(ctx, "paper", base, c); err != nil {
			tb.Fatalf("commit %d..: %v", base+1, err)
		}
	}
	return st
}

// serveBench answers one request through the server's handler.
func serveBench(b *testing.B, h http.Handler, path string) []byte {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	if rec.Code != http.StatusOK {
		b.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body.Bytes()[:min(rec.Body.Len(), 300)])
	}
	return rec.Body.Bytes()
}

// BenchmarkHistoryTrace loads automerge-paper (259,778 revisions, 104,852
// code points at the end) as a draft's history in a Bolt store, once, then
// measures the history endpoints through the server's handler (issue 7
// "How fast": text at a random revision < 2 ms, authors of the final text
// < 20 ms, diff of two revisions 50,000 apart < 50 ms, the timeline's
// first page < 20 ms), and the snapshot section the draft's owner
// marshals on its commit path.
func BenchmarkHistoryTrace(b *testing.B) {
	start, end, ops := loadTraceOps(b, "automerge-paper.json.gz")
	const every = 256 // the default SnapshotEvery
	t0 := time.Now()
	st := buildTraceStore(b, filepath.Join(b.TempDir(), "paper.db"), start, ops, every)
	b.Cleanup(func() { st.Close() })
	b.Logf("built %d revisions in %v", len(ops), time.Since(t0).Round(time.Millisecond))
	s := New(Config{Open: true, SnapshotEvery: every}, st, nil)
	b.Cleanup(func() { s.Shutdown(context.Background()) })
	h := s.Handler()
	head := len(ops)
	// The loaded history is what the trace says, through the endpoints.
	var final struct {
		Rev  int    `json:"rev"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(serveBench(b, h, "/api/docs/paper/text"), &final); err != nil || final.Rev != head || final.Text != end {
		b.Fatalf("text at the head: rev %d, %d bytes (%v); want rev %d, the trace's end", final.Rev, len(final.Text), err, head)
	}
	var authors struct{ Spans []SpanJSON }
	if err := json.Unmarshal(serveBench(b, h, "/api/docs/paper/authors"), &authors); err != nil || len(authors.Spans) == 0 ||
		authors.Spans[len(authors.Spans)-1].End != len([]rune(end)) {
		b.Fatalf("authors at the head: %d spans (%v)", len(authors.Spans), err)
	}
	b.Logf("%d revisions, %d code points, %d author spans at the head", head, len([]rune(end)), len(authors.Spans))
	rng := rand.New(rand.NewPCG(1, 2))
	run := func(name string, path func() string) {
		b.Run(name, func(b *testing.B) {
			serveBench(b, h, path()) // warm: the draft loads on first use
			var lat []time.Duration
			cpu := cpuTime()
			for b.Loop() {
				p := path()
				t := time.Now()
				serveBench(b, h, p)
				lat = append(lat, time.Since(t))
			}
			b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/1000/float64(len(lat)), "cpu-ms/op")
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
	run("text-at-random-rev", func() string { return fmt.Sprintf("/api/docs/paper/text?rev=%d", rng.IntN(head+1)) })
	run("authors-final", func() string { return "/api/docs/paper/authors" })
	run("authors-random-rev", func() string { return fmt.Sprintf("/api/docs/paper/authors?rev=%d", rng.IntN(head+1)) })
	run("diff-50k-apart", func() string {
		a := rng.IntN(head - 50_000 + 1)
		return fmt.Sprintf("/api/docs/paper/diff?from=%d&to=%d", a, a+50_000)
	})
	run("diff-50k-apart-by", func() string {
		a := rng.IntN(head - 50_000 + 1)
		return fmt.Sprintf("/api/docs/paper/diff?from=%d&to=%d&by=1", a, a+50_000)
	})
	run("timeline-first-page", func() string { return "/api/docs/paper/history?limit=50" })
	run("export-html-final", func() string { return "/api/docs/paper/export?format=html" })

	// The owner goroutine's share of a snapshot: the authorship section is
	// marshalled there every SnapshotEvery revisions.
	b.Run("snapshot-authorship-meta", func(b *testing.B) {
		var o *history.Observer
		err := s.Do(context.Background(), "paper", func(st *DraftState) error {
			if ao, ok := st.Observer(history.MetaSection).(*authorsObserver); ok {
				o = ao.Observer
			}
			return nil
		})
		if err != nil || o == nil {
			b.Fatalf("observer: %v", err)
		}
		if testing.Verbose() {
			a, _ := o.Authorship()
			t := time.Now()
			for range 20 {
				a.Clone()
			}
			b.Logf("Clone of the authorship: %v", time.Since(t)/20)
		}
		var size int
		cpu := cpuTime()
		n := 0
		for b.Loop() {
			n++
			// Safe here: no op is being committed to the draft.
			_, data := o.Meta()
			size = len(data)
		}
		b.ReportMetric(float64(size), "bytes")
		b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/1000/float64(n), "cpu-ms/op")
	})

	// The whole stall of the owner goroutine at a snapshot: the text and
	// every observer's section (what draft.snapshot does before it hands
	// the write to a goroutine).
	b.Run("snapshot-owner-stall", func(b *testing.B) {
		cpu := cpuTime()
		n := 0
		for b.Loop() {
			n++
			err := s.Do(context.Background(), "paper", func(st *DraftState) error {
				snap := dr.Snapshot{Rev: st.Rev(), Text: st.Text().String(), Meta: map[string]json.RawMessage{}}
				for _, o := range st.d.observers {
					if name, data := o.obs.Meta(); data != nil {
						snap.Meta[name] = data
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/1000/float64(n), "cpu-ms/op")
	})
}
