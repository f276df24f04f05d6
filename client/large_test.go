package client_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

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
func TestRefusedPasteIsKept(t *testing.T) {
	url := startServer(t, server.Config{MaxDraftLen: 1000}, "d", "start")
	resync := make(chan client.Event, 1)
	c, err := client.Dial(context.Background(), url, client.Options{Delegation: "CAN", Name: "Ana", Role: "drafter",
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
	paste := strings.Repeat("too long ", 200)
	if err := doc.Insert(5, paste); err != nil {
		t.Fatal(err)
	}
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
	if err := doc.Insert(5, " and more"); err != nil {
		t.Fatal(err)
	}
	if err := doc.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	if got := serverText(t, url, "d"); got != "start and more" {
		t.Fatalf("server text %q after the refusal", got)
	}
	doc.DismissRefused()
	if doc.Refused() != nil {
		t.Fatal("refusal not dismissed")
	}
}
