package server_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/draftroom/draftroom/client"
	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/server"
	"github.com/draftroom/draftroom/storage"
)

// liveServer is a server on a real loopback listener.
type liveServer struct {
	t     *testing.T
	srv   *server.Server
	http  *httptest.Server
	store dr.Store
}

func startServer(t *testing.T, store dr.Store, cfg server.Config) *liveServer {
	t.Helper()
	cfg.Open = true
	srv := server.New(cfg, store, nil)
	hs := serveHTTP(t, srv)
	return &liveServer{t: t, srv: srv, http: hs, store: store}
}

func (ls *liveServer) wsURL() string { return "ws" + strings.TrimPrefix(ls.http.URL, "http") + "/ws" }

// do makes an HTTP request and decodes the JSON answer into out.
func (ls *liveServer) do(method, path string, body any, out any) int {
	ls.t.Helper()
	code, data, _ := ls.roundTrip(nil, method, path, body)
	ls.decode(method, path, data, out)
	return code
}

func (ls *liveServer) create(id, text string) {
	ls.t.Helper()
	if code := ls.do("POST", "/api/docs", map[string]string{"id": id, "title": id, "text": text}, nil); code != http.StatusCreated {
		ls.t.Fatalf("create %s: status %d", id, code)
	}
}

type draftView struct {
	ID, Title, Text string
	Rev             int
}

func (ls *liveServer) get(id string) draftView {
	ls.t.Helper()
	var v draftView
	if code := ls.do("GET", "/api/docs/"+id, nil, &v); code != http.StatusOK {
		ls.t.Fatalf("get %s: status %d", id, code)
	}
	return v
}

type opView struct {
	Rev    int       `json:"rev"`
	Op     ot.Op     `json:"op"`
	Client string    `json:"client"`
	Seq    uint64    `json:"seq"`
	By     dr.Author `json:"by"`
	TS     int64     `json:"ts"`
}

func (ls *liveServer) ops(id string) []opView {
	ls.t.Helper()
	var v struct{ Ops []opView }
	if code := ls.do("GET", "/api/docs/"+id+"/ops", nil, &v); code != http.StatusOK {
		ls.t.Fatalf("ops %s: status %d", id, code)
	}
	return v.Ops
}

// checkLog asserts the op log is revisions 1..N with unique (client, seq)
// and replays from initial to final.
func checkLog(t *testing.T, ops []opView, initial, final string, rev int) {
	t.Helper()
	if len(ops) != rev {
		t.Fatalf("%d ops in the log, want %d", len(ops), rev)
	}
	seen := map[string]int{}
	text := initial
	for i, op := range ops {
		if op.Rev != i+1 {
			t.Fatalf("log entry %d has rev %d", i, op.Rev)
		}
		k := fmt.Sprintf("%s/%d", op.Client, op.Seq)
		if prev, dup := seen[k]; dup {
			t.Fatalf("(client, seq) %s committed twice: revs %d and %d", k, prev, op.Rev)
		}
		seen[k] = op.Rev
		var err error
		if text, err = ot.Apply(text, op.Op); err != nil {
			t.Fatalf("replay op %d: %v", op.Rev, err)
		}
	}
	if text != final {
		t.Fatalf("replayed log gives %q, want %q", text, final)
	}
}

var words = []string{"shall", "may", " États ", "締約国", " 😭", "[", "]", "/", "договор", "الدول", " ", "ñ", "\n", "Ελλάδα", "🇨🇦"}

// randomEdit makes an insert or a delete at a random place of the local text.
func randomEdit(rng *rand.Rand, doc *client.Doc) error {
	n := doc.Len()
	pos := rng.IntN(n + 1)
	if n > 0 && rng.IntN(3) == 0 {
		return doc.Delete(min(pos, n-1), 1+rng.IntN(min(5, n-min(pos, n-1))))
	}
	return doc.Insert(pos, words[rng.IntN(len(words))])
}

func TestEndToEndConvergence(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("end-to-end: a few seconds")
	}
	ls := startServer(t, storage.NewMemory(), server.Config{RecentOps: 64, SnapshotEvery: 32})
	const initial = "Article 17. States Parties [shall/may] adopt measures. 締約国は…"
	ls.create("art-17", initial)

	const clients = 8
	duration := 3 * time.Second
	var wg sync.WaitGroup
	docs := make([]*client.Doc, clients)
	var resends, drops, edits [clients]int
	for i := range clients {
		ctx := context.Background()
		c, doc := dialOpen(t, ctx, ls.wsURL(), client.Options{
			ClientID: fmt.Sprintf("e2e-%d", i), Delegation: fmt.Sprintf("D%d", i), Name: "Drafter", Role: "drafter",
			MinBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
		}, "art-17")
		docs[i] = doc
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 42))
			end := time.Now().Add(duration)
			for time.Now().Before(end) {
				switch r := rng.IntN(100); {
				case r < 2:
					c.DropConnection()
					drops[i]++
				case r < 6:
					if doc.ResendLastAcked() {
						resends[i]++
					}
				default:
					if randomEdit(rng, doc) == nil {
						edits[i]++
					}
				}
				time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond) // the typing pace: the workload, not a wait
			}
		}()
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i, d := range docs {
		if err := d.WaitSynced(ctx); err != nil {
			t.Fatalf("client %d: not synced: %v", i, err)
		}
	}
	final := ls.get("art-17")
	for i, d := range docs {
		if err := d.WaitRev(ctx, final.Rev); err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		if text, rev := d.Text(), d.Rev(); text != final.Text || rev != final.Rev {
			t.Fatalf("client %d has rev %d, %d code points; server rev %d, %d code points; first difference at byte %d",
				i, rev, len([]rune(text)), final.Rev, len([]rune(final.Text)), firstDiff(text, final.Text))
		}
	}
	checkLog(t, ls.ops("art-17"), initial, final.Text, final.Rev)
	var totalEdits, totalDrops, totalResends int
	for i := range clients {
		totalEdits += edits[i]
		totalDrops += drops[i]
		totalResends += resends[i]
	}
	if totalDrops == 0 || totalResends == 0 || final.Rev == 0 {
		t.Fatalf("the test did not exercise enough: %d drops, %d resends, rev %d", totalDrops, totalResends, final.Rev)
	}
	t.Logf("%d edits, %d committed revisions, %d disconnects, %d resends", totalEdits, final.Rev, totalDrops, totalResends)
}

func firstDiff(a, b string) int {
	for i := 0; i < min(len(a), len(b)); i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// BenchmarkEndToEnd measures committed ops per second through WebSockets
// and the real client: 20 writers, each editing as soon as its previous
// edit is acked, and 20 readers, on one draft with the durable Bolt store.
func BenchmarkEndToEnd(b *testing.B) {
	store, err := storage.OpenBolt(b.TempDir()+"/bench.db", storage.BoltOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	srv := server.New(server.Config{Open: true}, store, nil)
	hs := httptest.NewServer(srv.Handler())
	defer func() {
		hs.Close()
		srv.Shutdown(context.Background())
	}()
	if err := store.CreateDraft(context.Background(), dr.Draft{ID: "bench"}, "Article 1."); err != nil {
		b.Fatal(err)
	}
	url := "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws"
	ctx := context.Background()
	const writers, readers = 20, 20
	type writer struct {
		doc  *client.Doc
		acks chan time.Duration
	}
	ws := make([]writer, writers)
	for i := range writers + readers {
		acks := make(chan time.Duration, 1)
		c, err := client.Dial(ctx, url, client.Options{Delegation: "B", Name: fmt.Sprint(i), Role: "drafter",
			OnEvent: func(e client.Event) {
				if e.Type == client.EventAck {
					acks <- time.Since(e.Sent)
				}
			}})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		doc, err := c.Open(ctx, "bench")
		if err != nil {
			b.Fatal(err)
		}
		if i < writers {
			ws[i] = writer{doc, acks}
		}
	}
	lat := make([][]time.Duration, writers)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for i, w := range ws {
		n := b.N / writers
		if i < b.N%writers {
			n++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n {
				if err := w.doc.Insert(0, "x"); err != nil {
					panic(err)
				}
				lat[i] = append(lat[i], <-w.acks)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "ack-p50-ms")
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "ack-p99-ms")
	}
}
