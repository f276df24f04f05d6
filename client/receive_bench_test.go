package client

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/server"
	"github.com/draftroom/draftroom/storage"
)

// benchPhrases are what the recorded edits insert: treaty language in
// several scripts, astral emoji and brackets, as the load tool types.
var benchPhrases = []string{
	"shall ", "may ", "the Parties ", "[shall][should] ", "les États parties ",
	"développement durable ", "los países en desarrollo ", "niños y niñas ",
	"الدول الأطراف ", "التنمية المستدامة ", "договаривающиеся стороны ",
	"締約国は", "可持续发展", "Ελλάδα ", "🌍", "😭", "🇨🇦", "✅ ", "\n", ", ", "[", "]",
}

// recording is what a reader of a busy draft received from a real server:
// the snapshot frame and the op frames after it, byte for byte.
type recording struct {
	snapshot []byte
	ops      [][]byte
}

var (
	recordOnce sync.Once
	recorded   recording
	recordErr  error
)

// record runs a real server (memory store) with a ~2,000-code-point
// multilingual draft, makes n edits through two writer clients (short
// inserts and deletes of 1–8 code points at random places, as
// loadtest.Editor does) and records the frames a raw WebSocket reader gets.
func record(n int) (recording, error) {
	const doc = "art-17"
	rng := rand.New(rand.NewPCG(1, 2))
	var start strings.Builder
	for count := 0; count < 2000; {
		s := benchPhrases[rng.IntN(len(benchPhrases))]
		start.WriteString(s)
		count += len([]rune(s))
	}
	store := storage.NewMemory()
	ctx := context.Background()
	if err := store.CreateDraft(ctx, dr.Draft{ID: doc}, start.String()); err != nil {
		return recording{}, err
	}
	srv := server.New(server.Config{Open: true}, store, nil)
	hs := httptest.NewServer(srv.Handler())
	defer func() {
		hs.Close()
		srv.Shutdown(ctx)
	}()
	url := "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws"

	raw, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		return recording{}, err
	}
	defer raw.Close()
	raw.SetReadDeadline(time.Now().Add(time.Minute))
	raw.WriteJSON(map[string]string{"type": "hello", "client": "r-1", "delegation": "OBS", "name": "r1", "role": "reviewer"})
	raw.WriteJSON(map[string]string{"type": "open", "doc": doc})
	var rec recording
	for rec.snapshot == nil {
		_, data, err := raw.ReadMessage()
		if err != nil {
			return recording{}, err
		}
		if strings.HasPrefix(string(data), `{"type":"snapshot"`) {
			rec.snapshot = data
		}
	}

	var docs []*Doc
	for i, who := range [][2]string{{"CAN", "Ana Silva"}, {"FRA", "Luc Élysée"}} {
		c, err := Dial(ctx, url, Options{ClientID: "w-" + string(rune('a'+i)), Delegation: who[0], Name: who[1], Role: "drafter", NoReconnect: true})
		if err != nil {
			return recording{}, err
		}
		defer c.Close()
		d, err := c.Open(ctx, doc)
		if err != nil {
			return recording{}, err
		}
		docs = append(docs, d)
	}
	for i := range n {
		d := docs[i%len(docs)]
		if err := d.Edit(benchEdit(rng, d.Len(), 2000)); err != nil {
			return recording{}, err
		}
		if err := d.WaitSynced(ctx); err != nil {
			return recording{}, err
		}
	}
	for len(rec.ops) < n {
		_, data, err := raw.ReadMessage()
		if err != nil {
			return recording{}, err
		}
		if strings.HasPrefix(string(data), `{"type":"op"`) {
			rec.ops = append(rec.ops, data)
		}
	}
	return rec, nil
}

// benchEdit is an edit of a text of n code points kept near target.
func benchEdit(rng *rand.Rand, n, target int) ot.Op {
	pDelete := 0.3
	if n > target {
		pDelete = 0.7
	}
	if n > 0 && rng.Float64() < pDelete {
		del := 1 + rng.IntN(min(8, n))
		return ot.Normalize(ot.Op{ot.Skip(rng.IntN(n - del + 1)), ot.Delete(del)})
	}
	s := benchPhrases[rng.IntN(len(benchPhrases))]
	if rng.IntN(3) == 0 {
		r := []rune(s)
		s = string(r[:1+rng.IntN(len(r))])
	}
	return ot.Normalize(ot.Op{ot.Skip(rng.IntN(n + 1)), ot.Insert(s)})
}

// BenchmarkReceiveOp: the CPU a reader spends on one op frame from the
// server, through the path a received frame takes after the WebSocket read
// (Client.dispatch: decode, find the draft, transform, apply to the text,
// event). The frames were recorded from a real server; every len(ops)
// frames the draft is reloaded from the snapshot frame (timer stopped).
func BenchmarkReceiveOp(b *testing.B) {
	recordOnce.Do(func() { recorded, recordErr = record(2000) })
	if recordErr != nil {
		b.Fatal(recordErr)
	}
	rec := recorded
	var events int
	c := &Client{id: "r-1", docs: map[string]*Doc{}, done: make(chan struct{}),
		opts: Options{OnEvent: func(e Event) {
			if e.Type == EventOp {
				events++
			}
		}}}
	reload := func() {
		d := &Doc{c: c, id: "art-17", openWait: make(chan error, 1), presence: map[string]Presence{}, changed: make(chan struct{})}
		c.docs = map[string]*Doc{"art-17": d}
		if err := c.dispatch(rec.snapshot); err != nil {
			b.Fatal(err)
		}
	}
	reload()
	b.SetBytes(int64(len(rec.ops[0])))
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if i == len(rec.ops) {
			b.StopTimer()
			reload()
			i = 0
			b.StartTimer()
		}
		if err := c.dispatch(rec.ops[i]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.StopTimer()
	if events != b.N {
		b.Fatalf("%d op events for %d frames: the draft resynced", events, b.N)
	}
}

// BenchmarkReceiveOpWS: the same frames sent over loopback by a bare
// WebSocket server to a real Client, 32 frames per write, so the read
// itself (syscalls, framing, the read buffer) is counted too. ns/op is wall
// time per frame; cpu-ns/op is the CPU of both ends per frame (the sender's
// share is small: it copies pre-built frames); allocs/op includes the
// sender's (none per frame once its batch buffer has grown).
func BenchmarkReceiveOpWS(b *testing.B) {
	recordOnce.Do(func() { recorded, recordErr = record(2000) })
	if recordErr != nil {
		b.Fatal(recordErr)
	}
	rec := recorded
	send := make(chan int)
	upgrader := websocket.Upgrader{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		if _, _, err := conn.ReadMessage(); err != nil { // hello
			return
		}
		conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"welcome","client":"r-1","delegation":"OBS","name":"r1","role":"reviewer"}`))
		if _, _, err := conn.ReadMessage(); err != nil { // open
			return
		}
		conn.WriteMessage(websocket.TextMessage, rec.snapshot)
		n := <-send
		// Frames are written as a busy server writes them: several per
		// write (its pumps batch what is queued), here 32.
		var batch []byte
		for i := range n {
			if i > 0 && i%len(rec.ops) == 0 {
				// Back to the start: the ops after it apply again.
				batch = appendFrame(batch, rec.snapshot)
			}
			batch = appendFrame(batch, rec.ops[i%len(rec.ops)])
			if (i+1)%32 == 0 || i == n-1 {
				if _, err := conn.NetConn().Write(batch); err != nil {
					return
				}
				batch = batch[:0]
			}
		}
		conn.ReadMessage() // until the client closes
	}))
	defer hs.Close()

	var got atomic.Int64
	done := make(chan struct{})
	c, err := Dial(context.Background(), "ws"+strings.TrimPrefix(hs.URL, "http"), Options{ClientID: "r-1", NoReconnect: true,
		OnEvent: func(e Event) {
			if e.Type == EventOp && got.Add(1) == int64(b.N) {
				close(done)
			}
		}})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	d, err := c.Open(context.Background(), "art-17")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(rec.ops[0])))
	b.ReportAllocs()
	b.ResetTimer()
	before := cpuTime()
	send <- b.N
	select {
	case <-done:
	case <-time.After(time.Minute):
		b.Fatalf("%d of %d ops arrived (draft: %v)", got.Load(), b.N, d.Err())
	}
	// CPU, not wall time, is what limits the load tool: both ends' user and
	// system time, per frame.
	b.ReportMetric(float64(cpuTime()-before)/float64(b.N), "cpu-ns/op")
}

// appendFrame appends msg as one unmasked WebSocket text frame (RFC 6455
// section 5.2), as a server sends it.
func appendFrame(b, msg []byte) []byte {
	b = append(b, 0x81) // FIN, text
	switch n := len(msg); {
	case n < 126:
		b = append(b, byte(n))
	case n < 1<<16:
		b = append(b, 126, byte(n>>8), byte(n))
	default:
		b = append(b, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return append(b, msg...)
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
