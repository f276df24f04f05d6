package client_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/draftroom/draftroom/client"
	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/server"
	"github.com/draftroom/draftroom/storage"
)

func startServer(t *testing.T, cfg server.Config, id, text string) string {
	t.Helper()
	store := storage.NewMemory()
	if err := store.CreateDraft(context.Background(), dr.Draft{ID: id}, text); err != nil {
		t.Fatal(err)
	}
	cfg.Open = true
	srv := server.New(cfg, store, nil)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		srv.Shutdown(context.Background())
	})
	return "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws"
}

// A rate-limited op is resent with the same seq until it is committed;
// edits made meanwhile are composed behind it.
func TestRateLimitedOpsAreResent(t *testing.T) {
	t.Parallel()
	url := startServer(t, server.Config{OpsPerSecond: 4, OpsBurst: 1}, "d", "")
	var limited, acks atomic.Int32
	events := make(chan client.EventType, 4096)
	c, err := client.Dial(context.Background(), url, client.Options{Delegation: "CAN", Name: "Ana", Role: "drafter", RetryAfter: 20 * time.Millisecond,
		OnEvent: func(e client.Event) {
			switch {
			case e.Type == client.EventError && e.Code == "rate_limited":
				limited.Add(1)
			case e.Type == client.EventAck:
				acks.Add(1)
			}
			select {
			case events <- e.Type:
			default:
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	doc, err := c.Open(context.Background(), "d")
	if err != nil {
		t.Fatal(err)
	}
	nextEvent := func() client.EventType {
		t.Helper()
		select {
		case e := <-events:
			return e
		case <-time.After(10 * time.Second):
			t.Fatal("no event from the client in 10s")
			return 0
		}
	}
	// Type one letter per event of the client (a send, an ack, a refusal),
	// so that letters are typed while an op is refused and resent, until
	// three after the first refusal: the bucket (one op, refilled every
	// 250ms) refuses an op sent as soon as the one before is acked.
	want := ""
	for after := 0; after < 3; {
		if len(want) == 500 {
			t.Fatalf("no op was rate limited in %d edits", len(want))
		}
		if limited.Load() > 0 {
			after++
		}
		letter := string(rune('a' + len(want)%26))
		if err := doc.Insert(doc.Len(), letter); err != nil {
			t.Fatal(err)
		}
		want += letter
		nextEvent()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := doc.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	if got := doc.Text(); got != want {
		t.Fatalf("text %q, want %q", got, want)
	}
	// OnEvent runs after the state change a waiter sees: wait for the
	// last ack's event.
	for int(acks.Load()) < doc.Rev() {
		nextEvent()
	}
	if int(acks.Load()) != doc.Rev() {
		t.Fatalf("%d acks for rev %d", acks.Load(), doc.Rev())
	}
}

// An op the server refuses for good (a reviewer's) is dropped and the
// draft reloaded: the local text goes back to the server's.
func TestRefusedOpResyncs(t *testing.T) {
	t.Parallel()
	url := startServer(t, server.Config{}, "d", "agreed text")
	resynced := make(chan string, 1)
	sent := make(chan ot.Op, 1)
	c, err := client.Dial(context.Background(), url, client.Options{Delegation: "UN", Name: "Rev", Role: "reviewer",
		OnEvent: func(e client.Event) {
			switch e.Type {
			case client.EventResync:
				resynced <- e.Message
			case client.EventSent:
				sent <- e.Op
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	doc, err := c.Open(context.Background(), "d")
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Insert(0, "not "); err != nil {
		t.Fatal(err)
	}
	// The edit was applied locally and sent (reading doc.Text() here
	// would race with the server's refusal, which can already have
	// brought the text back).
	if op := <-sent; !reflect.DeepEqual(op, ot.Op{{Insert: "not "}}) {
		t.Fatalf("sent %v, want the local insert of %q", op, "not ")
	}
	select {
	case msg := <-resynced:
		if !strings.Contains(msg, "forbidden") {
			t.Fatalf("resync because %q, want forbidden", msg)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no resync")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := doc.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	if doc.Text() != "agreed text" || doc.Rev() != 0 {
		t.Fatalf("after resync: rev %d %q", doc.Rev(), doc.Text())
	}
}

// Open of a missing draft fails with the server's error.
func TestOpenMissingDraft(t *testing.T) {
	t.Parallel()
	url := startServer(t, server.Config{}, "d", "")
	c, err := client.Dial(context.Background(), url, client.Options{Delegation: "CAN", Name: "Ana", Role: "drafter"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Open(context.Background(), "nope")
	var se *client.ServerError
	if !asServerError(err, &se) || se.Code != "not_found" {
		t.Fatalf("err %v, want a not_found ServerError", err)
	}
	// A bad hello is refused at Dial.
	_, err = client.Dial(context.Background(), url, client.Options{Delegation: "CAN", Name: "Ana", Role: "king"})
	if !asServerError(err, &se) || se.Code != "unauthorized" {
		t.Fatalf("err %v, want unauthorized", err)
	}
}

func asServerError(err error, target **client.ServerError) bool {
	return errors.As(err, target)
}

// heldStore holds the commits it is told to, so that a connection can
// drop while an op is being committed, or just after.
type heldStore struct {
	*storage.Memory
	hold     atomic.Bool   // while set, a Commit waits for release
	entered  chan struct{} // a held Commit has begun
	release  chan struct{} // lets a held Commit go on
	returned chan struct{} // a held Commit has returned
}

func (s *heldStore) Commit(ctx context.Context, id string, base int, c dr.Commit) error {
	if !s.hold.Load() {
		return s.Memory.Commit(ctx, id, base, c)
	}
	s.entered <- struct{}{}
	<-s.release
	defer func() { s.returned <- struct{}{} }()
	return s.Memory.Commit(ctx, id, base, c)
}

// The op in flight when the connection drops is committed exactly once:
// the client resumes, recognises it among the resent ops or resends it
// with the same seq. The connection drops right after the edit, while its
// commit is held in the store, and just after its commit returned.
func TestInflightOpSurvivesReconnect(t *testing.T) {
	t.Parallel()
	mem := storage.NewMemory()
	if err := mem.CreateDraft(context.Background(), dr.Draft{ID: "d"}, "abc"); err != nil {
		t.Fatal(err)
	}
	store := &heldStore{Memory: mem, entered: make(chan struct{}), release: make(chan struct{}), returned: make(chan struct{})}
	srv := server.New(server.Config{Open: true}, store, nil)
	hs := httptest.NewServer(srv.Handler())
	defer func() {
		hs.Close()
		srv.Shutdown(context.Background())
	}()
	url := "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws"
	var sent atomic.Int32
	c, err := client.Dial(context.Background(), url, client.Options{Delegation: "CAN", Name: "Ana", Role: "drafter", MinBackoff: time.Millisecond,
		OnEvent: func(e client.Event) {
			if e.Type == client.EventSent {
				sent.Add(1)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	doc, err := c.Open(context.Background(), "d")
	if err != nil {
		t.Fatal(err)
	}
	wait := func(ch chan struct{}, what string) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Fatalf("timed out waiting for %s", what)
		}
	}
	for i, when := range []string{"at once", "during the commit", "after the commit"} {
		before := sent.Load()
		store.hold.Store(when != "at once")
		if err := doc.Insert(doc.Len(), string(rune('x'+i))); err != nil {
			t.Fatal(err)
		}
		switch when {
		case "during the commit":
			wait(store.entered, "the commit")
			store.hold.Store(false) // the resent op, if any, is not held
			c.DropConnection()
			store.release <- struct{}{}
			wait(store.returned, "the held commit to return")
		case "after the commit":
			wait(store.entered, "the commit")
			store.hold.Store(false)
			store.release <- struct{}{}
			wait(store.returned, "the held commit to return")
			c.DropConnection()
		default:
			c.DropConnection()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := doc.WaitSynced(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
		t.Logf("drop %s: sent %d times", when, sent.Load()-before)
	}
	// An edit made while the connection is down is sent after the resume.
	c.DropConnection()
	if err := doc.Insert(0, "<"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := doc.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	if got := doc.Text(); got != "<abcxyz" || doc.Rev() != 4 {
		t.Fatalf("rev %d %q, want <abcxyz at 4", doc.Rev(), got)
	}
	ops, _ := mem.Ops(context.Background(), "d", 1, 10)
	seqs := map[uint64]bool{}
	for _, op := range ops {
		if seqs[op.Seq] {
			t.Fatalf("seq %d committed twice", op.Seq)
		}
		seqs[op.Seq] = true
	}
	if len(ops) != 4 {
		t.Fatalf("%d ops stored, want 4", len(ops))
	}
}
