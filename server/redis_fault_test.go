package server_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/draftroom/draftroom/client"
	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/internal/redistest"
	"github.com/draftroom/draftroom/server"
	"github.com/draftroom/draftroom/storage"
	"github.com/redis/go-redis/v9"
)

// go-redis logs every failed dial; the fault test makes many on purpose.
func init() { redis.SetLogger(quietRedis{}) }

type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

// startOwnRedis starts a redis-server of the test's own, with the durability
// a deployment needs (appendonly, fsync always), so that it can be killed
// and started again on the same port and directory.
func startOwnRedis(t *testing.T) *redistest.Server { return redistest.Start(t) }

// faultClient is one editing client of the fault test and what it saw.
type faultClient struct {
	c   *client.Client
	doc *client.Doc

	mu          sync.Mutex
	acks        map[uint64]int // seq -> acked rev
	ackTimes    []time.Time
	errTimes    []time.Time // of the unavailable errors
	unavailable int
	disconnects int
}

func (fc *faultClient) event(ev client.Event) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	switch ev.Type {
	case client.EventAck:
		fc.acks[ev.Seq] = ev.Rev
		fc.ackTimes = append(fc.ackTimes, time.Now())
	case client.EventError:
		if ev.Code == dr.CodeUnavailable {
			fc.unavailable++
			fc.errTimes = append(fc.errTimes, time.Now())
		}
	case client.EventDisconnect:
		fc.disconnects++
	}
}

// acksBetween counts the acks received in [from, to).
func (fc *faultClient) acksBetween(from, to time.Time) int {
	return fc.between(&fc.ackTimes, from, to)
}

// errorsAfter counts the unavailable errors received from from on.
func (fc *faultClient) errorsAfter(from time.Time) int {
	return fc.between(&fc.errTimes, from, time.Now().Add(time.Hour))
}

func (fc *faultClient) between(times *[]time.Time, from, to time.Time) int {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	n := 0
	for _, at := range *times {
		if !at.Before(from) && at.Before(to) {
			n++
		}
	}
	return n
}

// TestRedisFault kills the Redis under a server while clients edit, and
// starts it again on the same port and directory: while it is down the
// clients get errors, no acks, and keep their connections; afterwards
// editing resumes by itself, everyone converges to GET, and every acked op
// is in the log at its acked revision, once.
func TestRedisFault(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("fault test: several seconds")
	}
	rs := startOwnRedis(t)
	st, err := storage.OpenRedisURL(rs.URL(), storage.RedisOptions{PingInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ls := startServer(t, st, server.Config{CommitTimeout: 3 * time.Second, Fanout: st})
	const initial = "Article 12. The Parties [shall/should] cooperate."
	ls.create("art-12", initial)

	ctx := context.Background()
	const n = 4
	clients := make([]*faultClient, n)
	for i := range clients {
		fc := &faultClient{acks: map[uint64]int{}}
		c, err := client.Dial(ctx, ls.wsURL(), client.Options{ClientID: fmt.Sprint("f", i), Delegation: fmt.Sprint("D", i), Name: "N", Role: "drafter",
			MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, RetryAfter: 50 * time.Millisecond, OnEvent: fc.event})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		fc.c = c
		if fc.doc, err = c.Open(ctx, "art-12"); err != nil {
			t.Fatal(err)
		}
		clients[i] = fc
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i, fc := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 12))
			for {
				select {
				case <-stop:
					return
				default:
				}
				randomEdit(rng, fc.doc)
				time.Sleep(time.Duration(2+rng.IntN(8)) * time.Millisecond) // the typing pace: the workload, not a wait
			}
		}()
	}

	waitUntil(t, "edits before the fault", func() bool { return ls.get("art-12").Rev >= 20 })
	before := ls.get("art-12").Rev
	rs.Kill()
	killed := time.Now()
	// A commit sent just before the kill may still be answered; after a
	// moment, no commit can succeed until the restart. Redis stays down
	// until every client has been refused after that moment.
	downFrom := killed.Add(200 * time.Millisecond)
	waitUntil(t, "every client refused while Redis is down", func() bool {
		for _, fc := range clients {
			if fc.errorsAfter(downFrom) == 0 {
				return false
			}
		}
		return true
	})
	// The server stays up: it answers HTTP (from memory or with 503).
	var v draftView
	if code := ls.do("GET", "/api/docs/art-12", nil, &v); code != http.StatusOK && code != http.StatusServiceUnavailable {
		t.Fatalf("GET with Redis down: status %d", code)
	}
	restarted := time.Now()
	rs.Start()
	waitUntil(t, "acks after the restart", func() bool {
		n := 0
		for _, fc := range clients {
			n += fc.acksBetween(restarted, time.Now())
		}
		return n >= 20
	})
	close(stop)
	wg.Wait()

	// Editing resumes by itself: every pending edit is acked.
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for i, fc := range clients {
		if err := fc.doc.WaitSynced(wctx); err != nil {
			t.Fatalf("client %d did not sync after Redis came back: %v", i, err)
		}
	}
	var final draftView
	waitUntil(t, "the clients to converge to GET", func() bool {
		final = ls.get("art-12")
		for _, fc := range clients {
			if fc.doc.Rev() != final.Rev || fc.doc.Text() != final.Text {
				return false
			}
		}
		return true
	})
	log := ls.ops("art-12")
	checkLog(t, log, initial, final.Text, final.Rev)

	// What the clients saw.
	inLog := make(map[string]int, len(log))
	for _, op := range log {
		inLog[fmt.Sprintf("%s/%d", op.Client, op.Seq)] = op.Rev
	}
	acked, errs, downAcks, afterAcks := 0, 0, 0, 0
	for i, fc := range clients {
		fc.mu.Lock()
		for seq, rev := range fc.acks {
			acked++
			if got, ok := inLog[fmt.Sprintf("f%d/%d", i, seq)]; !ok || got != rev {
				t.Errorf("client %d seq %d acked at rev %d, in the log at %d (%v)", i, seq, rev, got, ok)
			}
		}
		errs += fc.unavailable
		if fc.disconnects > 0 {
			t.Errorf("client %d was disconnected %d times: the server must keep connections while Redis is down", i, fc.disconnects)
		}
		fc.mu.Unlock()
		downAcks += fc.acksBetween(downFrom, restarted)
		afterAcks += fc.acksBetween(restarted, time.Now())
	}
	if downAcks > 0 {
		t.Errorf("%d acks while Redis was down", downAcks)
	}
	if errs == 0 {
		t.Error("no client got an unavailable error while Redis was down")
	}
	if afterAcks == 0 {
		t.Error("no ack after Redis came back")
	}
	t.Logf("rev %d before the fault, %d at the end; %d acks (%d after the restart), %d unavailable errors", before, final.Rev, acked, afterAcks, errs)
}
