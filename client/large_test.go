package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/draftroom/draftroom/client"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/server"
)

// serverText reads the draft as the server has it.
func serverText(t *testing.T, wsURL, id string) string {
	t.Helper()
	u := "http" + strings.TrimSuffix(strings.TrimPrefix(wsURL, "ws"), "/ws") + "/api/docs/" + id
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d struct{ Text string }
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		t.Fatal(err)
	}
	return d.Text
}

// bigText is about n code points of treaty-like text with characters that
// JSON escapes and characters outside ASCII.
func bigText(n int) string {
	unit := "States Parties <shall> take \"measures\" & report; الدول الأطراف 缔约国 😭\n"
	return strings.Repeat(unit, n/utf8.RuneCountInString(unit)+1)
}

type sentLog struct {
	mu  sync.Mutex
	ops []ot.Op
}

func (l *sentLog) add(op ot.Op) { l.mu.Lock(); l.ops = append(l.ops, op); l.mu.Unlock() }
func (l *sentLog) count() int   { l.mu.Lock(); defer l.mu.Unlock(); return len(l.ops) }

// A paste far over the server's 1 MiB frame limit reaches the server (as
// several ops, acked in order), and typing afterwards reaches it too.
// Replacing a 1,200,000-code-point draft by another text as long goes
// through although the two together exceed the maximum draft length.
func TestLargeEditsGoThrough(t *testing.T) {
	t.Parallel()
	initial := []rune(bigText(1_200_000))[:1_200_000]
	url := startServer(t, server.Config{}, "d", string(initial))
	var sent sentLog
	c, err := client.Dial(context.Background(), url, client.Options{Delegation: "CAN", Name: "Ana", Role: "drafter",
		OnEvent: func(e client.Event) {
			if e.Type == client.EventSent {
				sent.add(e.Op)
			}
			if e.Type == client.EventResync || e.Type == client.EventError {
				t.Errorf("event %+v", e)
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
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	paste := strings.Repeat("Une deuxième phrase <longue> & \"citée\". ", 30_000) // 1.2 MB of UTF-8, 1.3 MB as JSON
	replace := ot.Op{ot.DeleteText(string(initial)), ot.Insert(paste)}
	if err := doc.Edit(replace); err != nil {
		t.Fatal(err)
	}
	if err := doc.Insert(0, "typed after the paste "); err != nil {
		t.Fatal(err)
	}
	if err := doc.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	want := "typed after the paste " + paste
	if got := serverText(t, url, "d"); got != want {
		t.Fatalf("server has %d code points, want %d", utf8.RuneCountInString(got), utf8.RuneCountInString(want))
	}
	if doc.Text() != want {
		t.Fatal("local text differs from the server's")
	}
	if n := sent.count(); n < 5 {
		t.Fatalf("%d ops sent: the replace was not split", n)
	}
}

// An op the server refuses for good is dropped, its text kept in the
// EventResync and in Doc.Refused, and edits afterwards reach the server.
// The refusal is forced: the client edits while cut off (its dialer held),
// another client fills the draft meanwhile, and the resumed op would take
// the draft past its maximum length, which the client could not know.
func TestRefusedPasteIsKept(t *testing.T) {
	t.Parallel()
	url := startServer(t, server.Config{MaxDraftLen: 1000}, "d", "start")
	resync := make(chan client.Event, 1)
	var held atomic.Bool
	release := make(chan struct{})
	dialer := &websocket.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if held.Load() {
			select {
			case <-release:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
	c, err := client.Dial(context.Background(), url, client.Options{Delegation: "CAN", Name: "Ana", Role: "drafter", Dialer: dialer,
		OnEvent: func(e client.Event) {
			if e.Type == client.EventResync {
				resync <- e
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
	held.Store(true)
	c.DropConnection()
	paste := strings.Repeat("long ", 100) // 505 code points with "start": fits, as far as this client knows
	if err := doc.Insert(5, paste); err != nil {
		t.Fatal(err)
	}
	other, err := client.Dial(context.Background(), url, client.Options{Delegation: "EGY", Name: "Omar", Role: "drafter"})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	od, err := other.Open(context.Background(), "d")
	if err != nil {
		t.Fatal(err)
	}
	if err := od.Insert(0, strings.Repeat("x", 600)); err != nil {
		t.Fatal(err)
	}
	ctx0, cancel0 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel0()
	if err := od.WaitSynced(ctx0); err != nil {
		t.Fatal(err)
	}
	close(release) // reconnect: the pending paste goes, transformed, and is refused
	var e client.Event
	select {
	case e = <-resync:
	case <-time.After(10 * time.Second):
		t.Fatal("no resync after the refusal")
	}
	if e.Code != "too_large" || e.Text != paste {
		t.Fatalf("resync code %q text %q, want too_large with the paste", e.Code, e.Text)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := doc.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	r := doc.Refused()
	if r == nil || r.Text != paste || r.Code != "too_large" {
		t.Fatalf("Refused() = %+v", r)
	}
	if err := doc.Insert(doc.Len(), " and more"); err != nil {
		t.Fatal(err)
	}
	if err := doc.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	if got := serverText(t, url, "d"); got != strings.Repeat("x", 600)+"start and more" {
		t.Fatalf("server text %q after the refusal", got)
	}
	doc.DismissRefused()
	if doc.Refused() != nil {
		t.Fatal("refusal not dismissed")
	}
}

// An edit that would take the draft past the maximum length the server
// announced is refused at once, and nothing changes.
func TestEditPastMaxLengthRefusedLocally(t *testing.T) {
	t.Parallel()
	url := startServer(t, server.Config{MaxDraftLen: 100}, "d", "start")
	c, err := client.Dial(context.Background(), url, client.Options{Delegation: "CAN", Name: "Ana", Role: "drafter"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	doc, err := c.Open(context.Background(), "d")
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Insert(5, strings.Repeat("y", 96)); !errors.Is(err, client.ErrTooLong) {
		t.Fatalf("err %v, want ErrTooLong", err)
	}
	if doc.Text() != "start" || doc.Pending() {
		t.Fatalf("text %q pending %v after a refused edit", doc.Text(), doc.Pending())
	}
	if err := doc.Insert(5, strings.Repeat("y", 95)); err != nil {
		t.Fatalf("an edit to exactly the maximum: %v", err)
	}
}
