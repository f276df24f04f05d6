package storage_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/internal/redistest"
	"github.com/draftroom/draftroom/internal/testenv"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/storage"
	"github.com/draftroom/draftroom/storage/storagetest"
)

// The fault tests kill Redis on purpose; go-redis would log every failed
// dial to stderr, which reads like a failure in a passing run.
func init() { redis.SetLogger(quietRedisLog{}) }

type quietRedisLog struct{}

func (quietRedisLog) Printf(context.Context, string, ...any) {}

// redisURL returns $REDIS_URL (.ci/redis.sh starts a server and sets it)
// or, when it is unset, the URL of a redis-server of the test's own; it
// skips the test when there is neither.
func redisURL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		testenv.MissingTool(t, "REDIS_URL is not set and redis-server is not installed: no Redis to test against (eval \"$(bash .ci/redis.sh start)\" installs and starts one)")
	}
	return startRedisServer(t).URL()
}

// uniquePrefix returns a key prefix no other test uses, and deletes its
// keys when the test ends.
func uniquePrefix(t testing.TB, url string) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "drtest:" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() {
		o, err := redis.ParseURL(url)
		if err != nil {
			return
		}
		c := redis.NewClient(o)
		defer c.Close()
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		for k := range slices.Chunk(keys, 500) {
			c.Del(ctx, k...)
		}
	})
	return prefix
}

// openRedis opens a store on $REDIS_URL under prefix, closed at the end.
func openRedis(t testing.TB, url string, opts storage.RedisOptions) *storage.Redis {
	t.Helper()
	s, err := storage.OpenRedisURL(url, opts)
	if err != nil {
		t.Fatalf("OpenRedisURL(%s): %v", url, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestRedisContract(t *testing.T) {
	t.Parallel()
	url := redisURL(t)
	storagetest.Run(t, func(t *testing.T) dr.Store {
		return openRedis(t, url, storage.RedisOptions{Prefix: uniquePrefix(t, url)})
	})
}

var testAuthor = dr.Author{Delegation: "CAN", Name: "Ana"}

func testOp(rev int, client string, seq uint64, text string) dr.Op {
	return dr.Op{Rev: rev, Op: ot.Op{{Insert: text}}, Client: client, Seq: seq,
		Principal: "tok:" + client, By: testAuthor, TS: 1_795_000_000_000 + int64(rev)}
}

func testOps(base, n int, client string) []dr.Op {
	ops := make([]dr.Op, n)
	for i := range ops {
		ops[i] = testOp(base+1+i, client, uint64(base+1+i), fmt.Sprintf("%d ", base+1+i))
	}
	return ops
}

func create(t testing.TB, s *storage.Redis, id string) {
	t.Helper()
	d := dr.Draft{ID: id, Title: id, Created: 1_795_000_000_000, By: testAuthor}
	if err := s.CreateDraft(context.Background(), d, "text of "+id); err != nil {
		t.Fatalf("CreateDraft(%s): %v", id, err)
	}
}

// TestRedisKeyLayout checks the documented layout: every key of a draft
// carries the draft's hash tag (one Cluster slot per commit), global keys
// carry {@global}, and nothing else is written.
func TestRedisKeyLayout(t *testing.T) {
	t.Parallel()
	url := redisURL(t)
	prefix := uniquePrefix(t, url)
	s := openRedis(t, url, storage.RedisOptions{Prefix: prefix})
	ctx := context.Background()
	for _, id := range []string{"art-17", "a.b_c", "_x"} {
		create(t, s, id)
		c := dr.Commit{
			Ops:       testOps(0, 2, "c"),
			Snapshots: []dr.Snapshot{{Rev: 2, Text: "x"}},
			Proposals: []dr.Proposal{{Draft: id, Group: "b1.0", Text: "p", Rev: 1}},
			Decisions: []dr.Decision{{Draft: id, Group: "b1.0", Choice: dr.ChoiceDrop, Rev: 2}},
		}
		if err := s.Commit(ctx, id, 0, c); err != nil {
			t.Fatal(err)
		}
		if err := s.PutLabel(ctx, dr.Label{Draft: id, Name: "v1", Rev: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutToken(ctx, dr.Token{ID: "t1", Hash: "h1", Role: dr.RoleDrafter}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendAudit(ctx, dr.AuditEntry{Action: "login"}); err != nil {
		t.Fatal(err)
	}

	o, _ := redis.ParseURL(url)
	c := redis.NewClient(o)
	defer c.Close()
	keys, err := c.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	draftKey := regexp.MustCompile(`^\{([A-Za-z0-9_.-]+)\}:(meta|ops|snaps|snap|seqs|proposals|decisions|labels|labelnames|commit:[0-9a-f]{24})$`)
	globalKey := regexp.MustCompile(`^\{@global\}:(drafts|tokens|tokenhash|audit)$`)
	perDraft := map[string]int{}
	for _, k := range keys {
		rest := strings.TrimPrefix(k, prefix)
		if m := draftKey.FindStringSubmatch(rest); m != nil {
			perDraft[m[1]]++
			continue
		}
		if !globalKey.MatchString(rest) {
			t.Errorf("key %q is not in the documented layout", k)
		}
	}
	// meta ops snaps snap seqs proposals decisions labels labelnames + 1 nonce
	for _, id := range []string{"art-17", "a.b_c", "_x"} {
		if perDraft[id] != 10 {
			t.Errorf("draft %s has %d keys, want 10", id, perDraft[id])
		}
	}
	// A commit nonce expires by itself.
	for _, k := range keys {
		if strings.Contains(k, ":commit:") {
			if ttl := c.PTTL(ctx, k).Val(); ttl <= 0 || ttl > time.Minute {
				t.Errorf("nonce %s has TTL %v, want (0, 1m]", k, ttl)
			}
		}
	}
}

// TestRedisCommitRetryRecognised replays the commit script the way go-redis
// does when a reply is lost: the same call (same nonce) succeeds again
// without writing twice, while another call on the same base conflicts.
func TestRedisCommitRetryRecognised(t *testing.T) {
	t.Parallel()
	url := redisURL(t)
	s := openRedis(t, url, storage.RedisOptions{Prefix: uniquePrefix(t, url)})
	ctx := context.Background()
	create(t, s, "d")
	c := dr.Commit{Ops: testOps(0, 3, "c")}
	for attempt := range 2 {
		code, head, err := storage.RedisCommitWithNonce(ctx, s, "d", 0, c, "0123456789abcdef01234567")
		if err != nil || code != 0 || head != 3 {
			t.Fatalf("attempt %d with the same nonce: got code %d head %d err %v, want 0, 3, nil", attempt, code, head, err)
		}
	}
	if ops, err := s.Ops(ctx, "d", 1, 100); err != nil || len(ops) != 3 {
		t.Fatalf("after a replayed commit: %d ops, %v; want 3", len(ops), err)
	}
	if err := s.Commit(ctx, "d", 0, c); !errors.Is(err, storage.ErrRevConflict) {
		t.Errorf("the same Commit in a new call: got %v, want ErrRevConflict", err)
	}
}

func TestRedisErrorMapping(t *testing.T) {
	t.Parallel()
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	cases := []struct {
		name string
		err  error
		want error
		not  error
	}{
		{"nil reply", redis.Nil, storage.ErrNotFound, storage.ErrUnavailable},
		{"refused", refused, storage.ErrUnavailable, storage.ErrNotFound},
		{"eof", io.EOF, storage.ErrUnavailable, nil},
		{"reset", fmt.Errorf("read: %w", syscall.ECONNRESET), storage.ErrUnavailable, nil},
		{"pool timeout", redis.ErrPoolTimeout, storage.ErrUnavailable, nil},
		{"loading", redisError("LOADING Redis is loading the dataset in memory"), storage.ErrUnavailable, nil},
		{"masterdown", redisError("MASTERDOWN Link with MASTER is down"), storage.ErrUnavailable, nil},
		{"clusterdown", redisError("CLUSTERDOWN The cluster is down"), storage.ErrUnavailable, nil},
		{"out of memory", redisError("OOM command not allowed when used memory > 'maxmemory'."), storage.ErrUnavailable, nil},
		{"script error", redisError("ERR user_script:1: oops"), nil, storage.ErrUnavailable},
		{"canceled", context.Canceled, context.Canceled, storage.ErrUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := storage.RedisFail(context.Background(), tc.err)
			if tc.want != nil && !errors.Is(got, tc.want) {
				t.Errorf("got %v, want it to wrap %v", got, tc.want)
			}
			if tc.not != nil && errors.Is(got, tc.not) {
				t.Errorf("got %v, must not wrap %v", got, tc.not)
			}
			if got == nil || !strings.HasPrefix(got.Error(), "storage: ") {
				t.Errorf("got %v, want a storage-prefixed error", got)
			}
		})
	}
	// A caller that gave up on an unreachable Redis sees both.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got := storage.RedisFail(ctx, refused)
	if !errors.Is(got, storage.ErrUnavailable) || !errors.Is(got, context.Canceled) {
		t.Errorf("refused with a done context: got %v, want ErrUnavailable and context.Canceled", got)
	}
}

// redisError is an error as Redis replies it (go-redis's redis.Error).
type redisError string

func (e redisError) Error() string { return string(e) }
func (redisError) RedisError()     {}

func TestRedisContextPassesThrough(t *testing.T) {
	t.Parallel()
	url := redisURL(t)
	s := openRedis(t, url, storage.RedisOptions{Prefix: uniquePrefix(t, url)})
	create(t, s, "d")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Draft(ctx, "d")
	if !errors.Is(err, context.Canceled) || errors.Is(err, storage.ErrUnavailable) || errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Draft with a canceled context: got %v, want context.Canceled only", err)
	}
}

// nextEvent waits for the next event, skipping presence and resync events
// unless asked for.
func nextEvent(t *testing.T, ch <-chan storage.Event, kinds ...storage.EventKind) storage.Event {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				t.Fatal("Events closed")
			}
			if slices.Contains(kinds, e.Kind) {
				return e
			}
		case <-timeout:
			t.Fatalf("no %v event within 5s", kinds)
		}
	}
}

func TestRedisFanout(t *testing.T) {
	t.Parallel()
	url := redisURL(t)
	prefix := uniquePrefix(t, url)
	a := openRedis(t, url, storage.RedisOptions{Prefix: prefix, NodeID: "node-a"})
	b := openRedis(t, url, storage.RedisOptions{Prefix: prefix, NodeID: "node-b"})
	ctx := context.Background()
	create(t, a, "d")
	create(t, a, "other")
	if err := b.Watch(ctx, "d"); err != nil {
		t.Fatalf("Watch: %v", err)
	}
	if err := a.Watch(ctx, "d"); err != nil {
		t.Fatalf("Watch: %v", err)
	}
	bev, aev := b.Events(), a.Events()

	// A commit made after Watch returned reaches both nodes with its revs.
	c1 := testOps(0, 1, "c1")
	c2 := testOps(1, 20, "c2")
	for base, ops := range map[int][]dr.Op{0: c1} {
		if err := a.Commit(ctx, "d", base, dr.Commit{Ops: ops}); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Commit(ctx, "d", 1, dr.Commit{Ops: c2}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []struct {
		name  string
		ch    <-chan storage.Event
		owner string
	}{{"b", bev, "node-b"}, {"a", aev, "node-a"}} {
		e1 := nextEvent(t, n.ch, storage.EventOps)
		e2 := nextEvent(t, n.ch, storage.EventOps)
		if e1.Draft != "d" || e1.Node != "node-a" || e1.Own != (n.owner == "node-a") || !opsEqual(e1.Ops, c1) {
			t.Errorf("node %s: first event %+v, want c1 from node-a", n.name, e1)
		}
		if e2.Draft != "d" || e2.Node != "node-b" || e2.Own != (n.owner == "node-b") || !opsEqual(e2.Ops, c2) {
			t.Errorf("node %s: second event from %s with %d ops (revs %d..), want 20 ops 2..21 from node-b", n.name, e2.Node, len(e2.Ops), e2.Ops[0].Rev)
		}
	}

	// Presence crosses nodes, tagged with the publisher and its
	// connection.
	payload := []byte(`{"client":"c-7f3a","sel":[[1,2]],"by":{"delegation":"JPN","name":"田中"}}`)
	if err := a.PublishPresence(ctx, "d", 1<<40+7, payload); err != nil {
		t.Fatal(err)
	}
	e := nextEvent(t, bev, storage.EventPresence)
	if e.Draft != "d" || e.Node != "node-a" || e.Conn != 1<<40+7 || e.Own || string(e.Presence) != string(payload) {
		t.Errorf("presence on b: got %+v %s", e, e.Presence)
	}
	if e := nextEvent(t, aev, storage.EventPresence); !e.Own {
		t.Errorf("presence back on a: Own is false, want true")
	}
	if err := a.PublishPresence(ctx, "d", 1, []byte(`{not json`)); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("PublishPresence of bad JSON: got %v, want ErrInvalid", err)
	}

	// After Unwatch, b hears nothing more of d; "other" (watched) is the
	// marker: events arrive in publish order on one connection.
	b.Unwatch("d")
	if err := b.Watch(ctx, "other"); err != nil {
		t.Fatal(err)
	}
	if err := a.Commit(ctx, "d", 21, dr.Commit{Ops: testOps(21, 1, "c3")}); err != nil {
		t.Fatal(err)
	}
	if err := a.Commit(ctx, "other", 0, dr.Commit{Ops: testOps(0, 1, "c3")}); err != nil {
		t.Fatal(err)
	}
	if e := nextEvent(t, bev, storage.EventOps); e.Draft != "other" {
		t.Errorf("after Unwatch(d), b got an event of %s", e.Draft)
	}
	// A refused commit publishes nothing.
	if err := a.Commit(ctx, "other", 0, dr.Commit{Ops: testOps(0, 1, "c4")}); !errors.Is(err, storage.ErrRevConflict) {
		t.Fatalf("stale commit: %v", err)
	}
	if err := a.Commit(ctx, "other", 1, dr.Commit{Ops: testOps(1, 1, "c5")}); err != nil {
		t.Fatal(err)
	}
	if e := nextEvent(t, bev, storage.EventOps); e.Ops[0].Client != "c5" {
		t.Errorf("after a refused commit, the next event is %+v, want c5's", e.Ops[0])
	}
}

func opsEqual(a, b []dr.Op) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// TestRedisFanoutProperty: three nodes commit random batches on one draft
// concurrently, retrying on conflict; a fourth node watching it sees
// exactly the log, revisions 1..N in order, no gap, no duplicate.
func TestRedisFanoutProperty(t *testing.T) {
	t.Parallel()
	url := redisURL(t)
	prefix := uniquePrefix(t, url)
	ctx := context.Background()
	watcher := openRedis(t, url, storage.RedisOptions{Prefix: prefix, NodeID: "watcher"})
	create(t, watcher, "d")
	if err := watcher.Watch(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	const nodes, batches = 3, 30
	var wg sync.WaitGroup
	for n := range nodes {
		s := openRedis(t, url, storage.RedisOptions{Prefix: prefix, NodeID: fmt.Sprintf("n%d", n)})
		wg.Go(func() {
			client := fmt.Sprintf("n%d", n)
			seq := uint64(0)
			for i := range batches {
				size := 1 + (i*7+n)%5
				for {
					d, err := s.Draft(ctx, "d")
					if err != nil {
						t.Error(err)
						return
					}
					ops := make([]dr.Op, size)
					for k := range ops {
						ops[k] = testOp(d.Rev+1+k, client, seq+1+uint64(k), client)
					}
					err = s.Commit(ctx, "d", d.Rev, dr.Commit{Ops: ops})
					if err == nil {
						seq += uint64(size)
						break
					}
					if !errors.Is(err, storage.ErrRevConflict) {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	d, err := watcher.Draft(ctx, "d")
	if err != nil {
		t.Fatal(err)
	}
	log, err := watcher.Ops(ctx, "d", 1, d.Rev)
	if err != nil {
		t.Fatal(err)
	}
	var seen []dr.Op
	for len(seen) < d.Rev {
		e := nextEvent(t, watcher.Events(), storage.EventOps, storage.EventResync)
		if e.Kind == storage.EventResync {
			t.Fatalf("unexpected resync after %d ops", len(seen))
		}
		if e.Ops[0].Rev != len(seen)+1 {
			t.Fatalf("event starts at rev %d after %d ops: gap or duplicate", e.Ops[0].Rev, len(seen))
		}
		seen = append(seen, e.Ops...)
	}
	if !opsEqual(seen, log) {
		t.Errorf("the events differ from the log")
	}
}

// TestRedisEventsOverflow: a receiver that does not keep up loses events
// but is told so with an EventResync; the pub/sub goroutine never blocks.
func TestRedisEventsOverflow(t *testing.T) {
	t.Parallel()
	url := redisURL(t)
	prefix := uniquePrefix(t, url)
	ctx := context.Background()
	s := openRedis(t, url, storage.RedisOptions{Prefix: prefix, EventBuffer: 2})
	create(t, s, "d")
	if err := s.Watch(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	for base := range 10 {
		if err := s.Commit(ctx, "d", base, dr.Commit{Ops: testOps(base, 1, "c")}); err != nil {
			t.Fatal(err)
		}
	}
	// Nothing reads: once the pub/sub goroutine has an event more than the
	// buffer holds, it drops it (the counter is the only sign of it before
	// the resync is read).
	testenv.Until(t, "an event dropped for the full buffer", func() bool { return s.DroppedEvents() > 0 })
	var kinds []storage.EventKind
	for e := range s.Events() {
		kinds = append(kinds, e.Kind)
		if e.Kind == storage.EventResync {
			break
		}
		if len(kinds) > 10 {
			t.Fatalf("no resync after %v", kinds)
		}
	}
	if !slices.Equal(kinds, []storage.EventKind{storage.EventOps, storage.EventOps, storage.EventResync}) {
		t.Errorf("events: got %v, want ops ops resync", kinds)
	}
}

// redisServer is a redis-server of the test's own (internal/redistest), so
// that it can be killed and started again on the same port and directory.
type redisServer = redistest.Server

func startRedisServer(t testing.TB) *redisServer { return redistest.Start(t) }

// TestRedisFault stops redis-server (SIGKILL) under a store: calls fail
// quickly with ErrUnavailable; after a restart the store works again with
// every acknowledged commit there, and the fan-out reports a resync.
func TestRedisFault(t *testing.T) {
	t.Parallel() // its own redis-server(s)
	rs := startRedisServer(t)
	ctx := context.Background()
	s := openRedis(t, rs.URL(), storage.RedisOptions{NodeID: "n1", PingInterval: 200 * time.Millisecond})
	other := openRedis(t, rs.URL(), storage.RedisOptions{NodeID: "n2"})
	create(t, s, "d")
	if err := s.Watch(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	head := 0
	for range 5 {
		if err := s.Commit(ctx, "d", head, dr.Commit{Ops: testOps(head, 3, "c")}); err != nil {
			t.Fatal(err)
		}
		head += 3
	}
	rs.Kill()

	// Calls fail fast, and with ErrUnavailable.
	for name, call := range map[string]func() error{
		"Commit": func() error {
			return s.Commit(ctx, "d", head, dr.Commit{Ops: testOps(head, 1, "lost")})
		},
		"Draft": func() error { _, err := s.Draft(ctx, "d"); return err },
		"Ops":   func() error { _, err := s.Ops(ctx, "d", 1, 10); return err },
		"PublishPresence": func() error {
			return s.PublishPresence(ctx, "d", 1, []byte(`{}`))
		},
	} {
		start := time.Now()
		err := call()
		if !errors.Is(err, storage.ErrUnavailable) {
			t.Errorf("%s with Redis down: got %v, want ErrUnavailable", name, err)
		}
		d := time.Since(start)
		if d > 3*time.Second {
			t.Errorf("%s with Redis down took %v, want < 3s", name, d)
		}
		t.Logf("%s with Redis down: %v after %v", name, err, d)
	}
	// The fan-out notices too (its pub/sub session ends: no event reaches
	// the test): Watch then fails at once instead of hanging.
	testenv.Until(t, "Watch to fail with ErrUnavailable while Redis is down", func() bool {
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		start := time.Now()
		err := s.Watch(wctx, "e")
		if errors.Is(err, storage.ErrUnavailable) {
			if d := time.Since(start); d > time.Second {
				t.Errorf("Watch with Redis down took %v", d)
			}
			return true
		}
		if err == nil {
			s.Unwatch("e")
		}
		return false
	})

	rs.Start()
	// The store recovers by itself; nothing acknowledged is lost.
	var d dr.Draft
	testenv.Until(t, "Draft to work again after the restart", func() bool {
		var err error
		d, err = s.Draft(ctx, "d")
		return err == nil
	})
	if d.Rev != head {
		t.Fatalf("head after restart: %d, want %d (the refused commit must not be there either)", d.Rev, head)
	}
	ops, err := s.Ops(ctx, "d", 1, head)
	if err != nil || len(ops) != head {
		t.Fatalf("Ops after restart: %d ops, %v; want %d", len(ops), err, head)
	}
	for i, op := range ops {
		if op.Rev != i+1 || op.Client != "c" {
			t.Fatalf("op %d after restart: %+v", i+1, op)
		}
	}
	// The subscription comes back and says so; then ops flow again.
	// (Events of the commits before the kill may still be queued.)
	for {
		e := nextEvent(t, s.Events(), storage.EventResync, storage.EventOps)
		if e.Kind == storage.EventResync {
			if e.Draft != "" {
				t.Errorf("resync for draft %q, want all drafts", e.Draft)
			}
			break
		}
		if last := e.Ops[len(e.Ops)-1].Rev; last > head {
			t.Fatalf("event with rev %d before the resync", last)
		}
	}
	if err := other.Commit(ctx, "d", head, dr.Commit{Ops: testOps(head, 1, "after")}); err != nil {
		t.Fatalf("Commit after restart: %v", err)
	}
	if e := nextEvent(t, s.Events(), storage.EventOps); e.Ops[0].Rev != head+1 || e.Node != "n2" {
		t.Errorf("event after restart: rev %d from %s, want %d from n2", e.Ops[0].Rev, e.Node, head+1)
	}
}

// BenchmarkRedisCommit measures committed ops per second on one draft
// through Redis: one committer (a draft's owner goroutine on one node) or
// 20 racing committers (20 nodes on one draft: each retries on conflict
// after reading the head), with batches of 1 and 20 ops per Commit. The
// drafts=20 cases give each committer its own draft, the capacity of one
// Redis across drafts. Run with REDIS_URL set:
//
//	go test -run '^$' -bench RedisCommit -benchtime 3s ./storage/
func BenchmarkRedisCommit(b *testing.B) {
	url := redisURL(b)
	for _, bc := range []struct {
		committers, batch int
		ownDraft          bool
	}{
		{1, 1, false}, {1, 20, false}, {20, 1, false}, {20, 20, false}, {20, 1, true}, {20, 20, true},
	} {
		name := fmt.Sprintf("committers=%d/batch=%d", bc.committers, bc.batch)
		if bc.ownDraft {
			name = fmt.Sprintf("drafts=%d/batch=%d", bc.committers, bc.batch)
		}
		b.Run(name, func(b *testing.B) {
			s := openRedis(b, url, storage.RedisOptions{Prefix: uniquePrefix(b, url)})
			ctx := context.Background()
			ids := []string{"d"}
			if bc.ownDraft {
				ids = nil
				for i := range bc.committers {
					ids = append(ids, fmt.Sprintf("d%d", i))
				}
			}
			for _, id := range ids {
				create(b, s, id)
			}
			var mu sync.Mutex
			next := 0 // committers take work items from here
			conflicts := 0
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for w := range bc.committers {
				id := ids[w%len(ids)]
				client := fmt.Sprintf("w%d", w)
				wg.Go(func() {
					base, seq := 0, uint64(0)
					if d, err := s.Draft(ctx, id); err == nil {
						base = d.Rev
					}
					for {
						mu.Lock()
						if next >= b.N {
							mu.Unlock()
							return
						}
						next++
						mu.Unlock()
						for {
							ops := make([]dr.Op, bc.batch)
							for k := range ops {
								ops[k] = testOp(base+1+k, client, seq+1+uint64(k), "abc")
							}
							err := s.Commit(ctx, id, base, dr.Commit{Ops: ops})
							if err == nil {
								base += bc.batch
								seq += uint64(bc.batch)
								break
							}
							if !errors.Is(err, storage.ErrRevConflict) {
								b.Error(err)
								return
							}
							mu.Lock()
							conflicts++
							mu.Unlock()
							d, err := s.Draft(ctx, id)
							if err != nil {
								b.Error(err)
								return
							}
							base = d.Rev
						}
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.ReportMetric(float64(b.N*bc.batch)/elapsed.Seconds(), "ops/s")
			b.ReportMetric(float64(conflicts)/float64(b.N), "conflicts/commit")
		})
	}
}

// TestRedisWatchChurn has several goroutines of one node Watch, receive and
// Unwatch their drafts over and over while another node commits: a commit
// made right after Watch returns always arrives (Watch waits until the
// subscription is active), whatever the other goroutines do meanwhile.
func TestRedisWatchChurn(t *testing.T) {
	t.Parallel()
	url := redisURL(t)
	prefix := uniquePrefix(t, url)
	ctx := context.Background()
	node := openRedis(t, url, storage.RedisOptions{Prefix: prefix, NodeID: "watcher"})
	writer := openRedis(t, url, storage.RedisOptions{Prefix: prefix, NodeID: "writer"})
	const workers, rounds = 4, 15
	inbox := make([]chan storage.Event, workers)
	for w := range workers {
		inbox[w] = make(chan storage.Event, 1024)
		create(t, writer, fmt.Sprintf("d%d", w))
	}
	create(t, writer, "shared")
	go func() { // demultiplex the node's one event stream
		for e := range node.Events() {
			var w int
			if _, err := fmt.Sscanf(e.Draft, "d%d", &w); err == nil && w < workers {
				inbox[w] <- e
			}
		}
	}()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			id := fmt.Sprintf("d%d", w)
			for round := range rounds {
				if err := node.Watch(ctx, id); err != nil {
					t.Errorf("%s: Watch: %v", id, err)
					return
				}
				// Churn on a draft every worker shares, too.
				if err := node.Watch(ctx, "shared"); err != nil {
					t.Errorf("Watch(shared): %v", err)
					return
				}
				if err := writer.Commit(ctx, id, round, dr.Commit{Ops: testOps(round, 1, id)}); err != nil {
					t.Errorf("%s: Commit: %v", id, err)
					return
				}
				node.Unwatch("shared")
				timeout := time.After(5 * time.Second)
			wait:
				for {
					select {
					case e := <-inbox[w]:
						if e.Kind == storage.EventOps && e.Ops[0].Rev == round+1 {
							break wait
						}
					case <-timeout:
						t.Errorf("%s: rev %d committed after Watch never arrived", id, round+1)
						return
					}
				}
				node.Unwatch(id)
			}
		})
	}
	wg.Wait()
}

// startRedisCluster runs a three-master Redis Cluster of the test's own
// (skipping without redis-server and redis-cli) and returns its addresses.
func startRedisCluster(t *testing.T) []string {
	t.Helper()
	for _, tool := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.MissingTool(t, "%s is not installed (apt-get install -y redis-server)", tool)
		}
	}
	var addrs []string
	for range 3 {
		// A cluster node also listens on port+10000 for its bus: ask for
		// free ports until one leaves room for it.
		port := 0
		for tries := 0; port == 0 || port > 55535; tries++ {
			if tries == 100 {
				t.Fatalf("no free port below 55536 in 100 tries (the last was %d)", port)
			}
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			port = l.Addr().(*net.TCPAddr).Port
			l.Close()
		}
		dir := t.TempDir()
		cmd := exec.Command("redis-server", "--bind", "127.0.0.1", "--port", strconv.Itoa(port),
			"--dir", dir, "--save", "", "--appendonly", "yes", "--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(dir, "nodes.conf"), "--logfile", filepath.Join(dir, "redis.log"))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		testenv.Until(t, "cluster node "+addr+" to listen", func() bool {
			c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
			if err == nil {
				c.Close()
			}
			return err == nil
		})
		addrs = append(addrs, addr)
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	// Every node must see the cluster as ok, not just one.
	for _, addr := range addrs {
		c := redis.NewClient(&redis.Options{Addr: addr})
		testenv.Until(t, "cluster node "+addr+" to say cluster_state:ok", func() bool {
			info, err := c.ClusterInfo(context.Background()).Result()
			return err == nil && strings.Contains(info, "cluster_state:ok")
		})
		c.Close()
	}
	return addrs
}

// TestRedisCluster runs the contract suite and the fan-out on a Redis
// Cluster through a ClusterClient: every script's keys share one slot, and
// classic pub/sub reaches a node subscribed on another shard.
func TestRedisCluster(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts a three-node Redis Cluster")
	}
	addrs := startRedisCluster(t)
	open := func(t testing.TB, prefix, node string) *storage.Redis {
		s := storage.NewRedis(redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs}),
			storage.RedisOptions{Prefix: prefix, NodeID: node})
		t.Cleanup(func() { s.Close() })
		return s
	}
	var n int
	storagetest.Run(t, func(t *testing.T) dr.Store {
		n++
		return open(t, fmt.Sprintf("c%d:", n), "n")
	})
	t.Run("Fanout", func(t *testing.T) {
		ctx := context.Background()
		a, b := open(t, "fan:", "a"), open(t, "fan:", "b")
		// Drafts whose slots are on different shards.
		ids := []string{"art-1", "art-2", "art-3", "art-4", "art-5", "art-6"}
		for _, id := range ids {
			create(t, a, id)
			if err := b.Watch(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		for _, id := range ids {
			if err := a.Commit(ctx, id, 0, dr.Commit{Ops: testOps(0, 2, "c")}); err != nil {
				t.Fatal(err)
			}
		}
		got := map[string]bool{}
		for len(got) < len(ids) {
			e := nextEvent(t, b.Events(), storage.EventOps)
			if e.Node != "a" || len(e.Ops) != 2 || e.Ops[1].Rev != 2 {
				t.Fatalf("event %+v", e)
			}
			got[e.Draft] = true
		}
	})
}

// blackhole is a TCP proxy that can stop forwarding without closing
// anything: what a network partition looks like to a client (no RST, no
// EOF, just silence).
type blackhole struct {
	ln          net.Listener
	target      string
	mu          sync.Mutex
	paused      bool // both ways
	repliesOnly bool // with paused: requests still reach Redis
	resume      chan struct{}
	held        atomic.Int64 // reads held by a pause, ever
}

func newBlackhole(t *testing.T, target string) *blackhole {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &blackhole{ln: ln, target: target, resume: make(chan struct{})}
	var conns sync.WaitGroup
	var open []net.Conn
	var openMu sync.Mutex
	t.Cleanup(func() {
		ln.Close()
		b.unpause()
		openMu.Lock()
		for _, c := range open {
			c.Close()
		}
		openMu.Unlock()
		conns.Wait()
	})
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			openMu.Lock()
			open = append(open, in, out)
			openMu.Unlock()
			conns.Add(2)
			go func() { defer conns.Done(); b.pipe(out, in, false) }()
			go func() { defer conns.Done(); b.pipe(in, out, true) }()
		}
	}()
	return b
}

func (b *blackhole) pipe(dst, src net.Conn, replies bool) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			b.mu.Lock()
			paused, resume := b.paused && (replies || !b.repliesOnly), b.resume
			b.mu.Unlock()
			if paused {
				b.held.Add(1)
				<-resume
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (b *blackhole) pause() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.paused = true
}

// pauseReplies lets requests through but holds Redis's answers: a
// command runs, and its reply is lost to a client that times out.
func (b *blackhole) pauseReplies() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.paused, b.repliesOnly = true, true
}

func (b *blackhole) unpause() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.paused {
		b.paused, b.repliesOnly = false, false
		close(b.resume)
		b.resume = make(chan struct{})
	}
}

// TestRedisPartition cuts the network between a store and Redis without
// closing anything: calls fail with ErrUnavailable after the read timeout
// instead of hanging, the silent pub/sub connection is detected by its
// pings and replaced, and an EventResync tells the receiver to catch up on
// what it missed.
func TestRedisPartition(t *testing.T) {
	t.Parallel() // its own redis-server(s)
	rs := startRedisServer(t)
	hole := newBlackhole(t, fmt.Sprintf("127.0.0.1:%d", rs.Port))
	url := "redis://" + hole.ln.Addr().String() + "/0?read_timeout=300ms&write_timeout=300ms&dial_timeout=300ms"
	ctx := context.Background()
	s := openRedis(t, url, storage.RedisOptions{NodeID: "cut", PingInterval: 200 * time.Millisecond})
	direct := openRedis(t, rs.URL(), storage.RedisOptions{NodeID: "direct"})
	create(t, direct, "d")
	if err := s.Watch(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	if err := direct.Commit(ctx, "d", 0, dr.Commit{Ops: testOps(0, 1, "c")}); err != nil {
		t.Fatal(err)
	}
	if e := nextEvent(t, s.Events(), storage.EventOps); e.Ops[0].Rev != 1 {
		t.Fatalf("before the cut: %+v", e)
	}

	ended := s.SessionsEnded()
	hole.pause()
	start := time.Now()
	_, err := s.Draft(ctx, "d")
	if !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("Draft across a partition: got %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Draft across a partition took %v, want < 3s", d)
	}
	// Committed while this node hears nothing.
	if err := direct.Commit(ctx, "d", 1, dr.Commit{Ops: testOps(1, 1, "c")}); err != nil {
		t.Fatal(err)
	}
	// Two ping intervals without an answer: the subscription is stale.
	testenv.Until(t, "the stale subscription to be given up", func() bool { return s.SessionsEnded() > ended })
	hole.unpause()

	for {
		e := nextEvent(t, s.Events(), storage.EventOps, storage.EventResync)
		if e.Kind == storage.EventResync {
			break
		}
		// The op published during the cut may still come through the old
		// connection before it is dropped; that is fine, the resync must
		// come all the same.
		if e.Ops[0].Rev != 2 {
			t.Fatalf("unexpected event %+v", e)
		}
	}
	ops, err := s.Ops(ctx, "d", 2, 100)
	if err != nil || len(ops) != 1 {
		t.Fatalf("catching up after the resync: %d ops, %v", len(ops), err)
	}
	if err := direct.Commit(ctx, "d", 2, dr.Commit{Ops: testOps(2, 1, "c")}); err != nil {
		t.Fatal(err)
	}
	if e := nextEvent(t, s.Events(), storage.EventOps); e.Ops[0].Rev != 3 {
		t.Errorf("after the partition: %+v, want rev 3", e)
	}
}

// startSentinel runs a Redis primary, one replica and a Sentinel watching
// them as "draftroom" (quorum 1, 1 s down-after), all of the test's own.
// It returns the sentinel address and the primary's server.
func startSentinel(t *testing.T) (sentinel string, primary *redisServer) {
	t.Helper()
	primary = startRedisServer(t)
	redistest.Start(t, "--replicaof", "127.0.0.1", strconv.Itoa(primary.Port))

	port := freePort(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	cfg := fmt.Sprintf("bind 127.0.0.1\nport %d\ndir %s\n"+
		"sentinel monitor draftroom 127.0.0.1 %d 1\n"+
		"sentinel down-after-milliseconds draftroom 1000\n"+
		"sentinel failover-timeout draftroom 5000\n", port, dir, primary.Port)
	if err := os.WriteFile(conf, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("redis-server", conf, "--sentinel", "--logfile", filepath.Join(dir, "sentinel.log"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sentinel = fmt.Sprintf("127.0.0.1:%d", port)
	sc := redis.NewSentinelClient(&redis.Options{Addr: sentinel})
	defer sc.Close()
	// Ready when the sentinel knows the primary and has found the replica.
	testenv.Until(t, "the sentinel to find the replica", func() bool {
		reps, err := sc.Replicas(context.Background(), "draftroom").Result()
		return err == nil && len(reps) == 1
	})
	return sentinel, primary
}

func freePort(t testing.TB) int { return redistest.FreePort(t) }

// TestRedisSentinel runs the store through a Sentinel failover client:
// the contract suite, then a failover (the primary is killed, the replica
// promoted): the store finds the new primary by itself, the commits the
// replica had are there, and the fan-out signals a resync.
func TestRedisSentinel(t *testing.T) {
	t.Parallel() // its own redis-server(s)
	if testing.Short() {
		t.Skip("starts a primary, a replica and a Sentinel")
	}
	sentinel, primary := startSentinel(t)
	// timeout bounds a call: short for the failover, so that calls to the
	// dead primary fail fast; go-redis's default (3 s) for the contract
	// suite, whose concurrent commits on a busy machine take longer than
	// the failover's 500 ms.
	open := func(t testing.TB, prefix, node string, timeout time.Duration) *storage.Redis {
		c := redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName: "draftroom", SentinelAddrs: []string{sentinel},
			DialTimeout: 300 * time.Millisecond, ReadTimeout: timeout, WriteTimeout: timeout,
		})
		s := storage.NewRedis(c, storage.RedisOptions{Prefix: prefix, NodeID: node, PingInterval: 200 * time.Millisecond})
		t.Cleanup(func() { s.Close() })
		return s
	}
	var n int
	storagetest.Run(t, func(t *testing.T) dr.Store {
		n++
		return open(t, fmt.Sprintf("s%d:", n), "n", 3*time.Second)
	})

	ctx := context.Background()
	s := open(t, "failover:", "n1", 500*time.Millisecond)
	create(t, s, "d")
	if err := s.Watch(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, "d", 0, dr.Commit{Ops: testOps(0, 5, "c")}); err != nil {
		t.Fatal(err)
	}
	// Replication is asynchronous: wait until the replica has it, as
	// docs/REDIS.md explains (a failover loses what it has not).
	pc := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", primary.Port)})
	for i := 0; ; i++ { // the replica may still be doing its first sync
		n, err := pc.Wait(ctx, 1, time.Second).Result()
		if err == nil && n == 1 {
			break
		}
		if i > 10 {
			t.Fatalf("WAIT 1: %d, %v", n, err)
		}
	}
	pc.Close()
	primary.Kill()

	// Until Sentinel promotes the replica (about down-after + a second),
	// calls fail; then they work again, on the new primary.
	testenv.Until(t, "a commit to go through on the promoted replica", func() bool {
		err := s.Commit(ctx, "d", 5, dr.Commit{Ops: testOps(5, 1, "c")})
		if errors.Is(err, storage.ErrDuplicate) {
			return true // an earlier attempt went through, its reply lost
		}
		if err != nil && !errors.Is(err, storage.ErrUnavailable) {
			t.Fatalf("Commit during failover: got %v, want ErrUnavailable", err)
		}
		return err == nil
	})
	ops, err := s.Ops(ctx, "d", 1, 100)
	if err != nil || len(ops) != 6 {
		t.Fatalf("after failover: %d ops, %v; want 6", len(ops), err)
	}
	for {
		e := nextEvent(t, s.Events(), storage.EventOps, storage.EventResync)
		if e.Kind == storage.EventResync {
			break
		}
	}
}

// TestRedisCrashProperty: writers commit on one draft the way draft owners
// do (retry on conflict, resend after an unknown outcome, take
// ErrDuplicate as "already committed") while redis-server is killed
// (SIGKILL) and restarted several times. In the end every acknowledged
// submission is in the log at the revision it was acknowledged with, and
// every submission is there exactly once.
func TestRedisCrashProperty(t *testing.T) {
	t.Parallel() // its own redis-server(s)
	if testing.Short() {
		t.Skip("kills and restarts redis-server")
	}
	rs := startRedisServer(t)
	ctx := context.Background()
	url := fmt.Sprintf("redis://127.0.0.1:%d/0?read_timeout=500ms&dial_timeout=300ms", rs.Port)
	s := openRedis(t, url, storage.RedisOptions{})
	create(t, s, "d")

	const writers, each = 3, 40
	acked := make([]map[uint64]int, writers) // seq -> acknowledged rev
	var outages atomic.Int64                 // calls that met a dead Redis
	var commits atomic.Int64                 // commits acknowledged
	var killsDone atomic.Bool
	var wg sync.WaitGroup
	for w := range writers {
		acked[w] = map[uint64]int{}
		wg.Go(func() {
			client := fmt.Sprintf("w%d", w)
			// Keep writing until the last restart, so that every outage
			// meets commits in flight.
			for seq := uint64(1); seq <= each || !killsDone.Load(); seq++ {
				for attempt := 0; ; attempt++ {
					if attempt > 2000 {
						t.Errorf("%s seq %d: no progress", client, seq)
						return
					}
					d, err := s.Draft(ctx, "d")
					if err != nil {
						if !errors.Is(err, storage.ErrUnavailable) {
							t.Errorf("Draft: %v", err)
							return
						}
						outages.Add(1)
						time.Sleep(20 * time.Millisecond) // a writer's backoff, as an owner's: the workload
						continue
					}
					op := testOp(d.Rev+1, client, seq, client)
					err = s.Commit(ctx, "d", d.Rev, dr.Commit{Ops: []dr.Op{op}})
					switch {
					case err == nil:
						acked[w][seq] = d.Rev + 1
						commits.Add(1)
					case errors.Is(err, storage.ErrDuplicate):
						// An earlier attempt whose reply was lost went through.
						rev, err := s.SeqRev(ctx, "d", op.Principal, client, seq, 0)
						if err != nil {
							time.Sleep(20 * time.Millisecond) // a writer's backoff: the workload
							continue
						}
						acked[w][seq] = rev
						commits.Add(1)
					case errors.Is(err, storage.ErrRevConflict):
						continue
					case errors.Is(err, storage.ErrUnavailable):
						outages.Add(1)
						time.Sleep(20 * time.Millisecond) // a writer's backoff: the workload
						continue
					default:
						t.Errorf("Commit: %v", err)
						return
					}
					break
				}
			}
		})
	}
	for range 3 {
		// Kill once the writers have committed again since the restart,
		// and restart once a call has met the dead Redis (after go-redis's
		// own retries), so that every outage meets commits in flight and
		// fails some.
		c := commits.Load()
		testenv.Until(t, "commits before the kill", func() bool { return commits.Load() >= c+10 })
		o := outages.Load()
		rs.Kill()
		testenv.Until(t, "a call to meet the dead Redis", func() bool { return outages.Load() > o })
		rs.Start()
	}
	killsDone.Store(true)
	wg.Wait()
	if outages.Load() == 0 {
		t.Fatal("no call met a dead Redis: the kills tested nothing")
	}
	submissions := 0
	for w := range writers {
		submissions += len(acked[w])
	}
	t.Logf("%d submissions, %d calls met a dead Redis", submissions, outages.Load())

	var ops []dr.Op
	testenv.Until(t, "the log to be readable", func() bool {
		var err error
		ops, err = s.Ops(ctx, "d", 1, 1<<30)
		return err == nil
	})
	if len(ops) != submissions {
		t.Errorf("log has %d ops, want %d (one per submission)", len(ops), submissions)
	}
	at := map[string]int{}
	for i, op := range ops {
		key := fmt.Sprintf("%s/%d", op.Client, op.Seq)
		if prev, dup := at[key]; dup {
			t.Errorf("submission %s committed twice: revs %d and %d", key, prev, i+1)
		}
		at[key] = op.Rev
		if op.Rev != i+1 {
			t.Errorf("log position %d holds rev %d", i+1, op.Rev)
		}
	}
	for w := range writers {
		for seq, rev := range acked[w] {
			key := fmt.Sprintf("w%d/%d", w, seq)
			if at[key] != rev {
				t.Errorf("acknowledged %s at rev %d, the log has it at %d (0 = lost)", key, rev, at[key])
			}
		}
	}
}

// BenchmarkRedisOwner models a draft's owner goroutine on one node: 20
// writers each keep one op in flight (as the protocol's clients do) and
// wait for its ack; the owner commits whatever is pending as one batch,
// then acks it. ops/s is the draft's committed ops per second through
// Redis; batch is the mean ops per Commit.
//
//	go test -run '^$' -bench RedisOwner -benchtime 3s ./storage/
func BenchmarkRedisOwner(b *testing.B) {
	url := redisURL(b)
	const writers = 20
	s := openRedis(b, url, storage.RedisOptions{Prefix: uniquePrefix(b, url)})
	ctx := context.Background()
	create(b, s, "d")
	type submit struct {
		client string
		seq    uint64
		ack    chan struct{}
	}
	pending := make(chan submit, writers)
	var remaining atomic.Int64
	remaining.Store(int64(b.N))
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			ack := make(chan struct{})
			for seq := uint64(1); remaining.Add(-1) >= 0; seq++ {
				pending <- submit{fmt.Sprintf("w%d", w), seq, ack}
				<-ack
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	head, commits := 0, 0
	for {
		var batch []submit
		select {
		case sub := <-pending:
			batch = append(batch, sub)
		case <-done:
			elapsed := time.Since(start)
			b.ReportMetric(float64(head)/elapsed.Seconds(), "ops/s")
			b.ReportMetric(float64(head)/float64(max(commits, 1)), "batch")
			return
		}
	drain:
		for {
			select {
			case sub := <-pending:
				batch = append(batch, sub)
			default:
				break drain
			}
		}
		ops := make([]dr.Op, len(batch))
		for i, sub := range batch {
			ops[i] = testOp(head+1+i, sub.client, sub.seq, "abc")
		}
		if err := s.Commit(ctx, "d", head, dr.Commit{Ops: ops}); err != nil {
			b.Fatal(err)
		}
		head += len(ops)
		commits++
		for _, sub := range batch {
			sub.ack <- struct{}{}
		}
	}
}

// TestRedisFull fills a Redis that has a memory limit and noeviction (the
// setting docs/REDIS.md asks for): commits then fail with ErrUnavailable,
// and what was acknowledged before is all there, nothing half-written.
func TestRedisFull(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t, "--maxmemory", "4mb", "--maxmemory-policy", "noeviction")
	ctx := context.Background()
	s := openRedis(t, rs.URL(), storage.RedisOptions{})
	create(t, s, "d")
	big := strings.Repeat("article 17 — ", 2000)
	head := 0
	var err error
	for head < 10000 {
		ops := testOps(head, 4, "c")
		for i := range ops {
			ops[i].Op = ot.Op{{Insert: big}}
		}
		if err = s.Commit(ctx, "d", head, dr.Commit{Ops: ops}); err != nil {
			break
		}
		head += len(ops)
	}
	if !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("Commit into a full Redis after %d ops: got %v, want ErrUnavailable", head, err)
	}
	d, err := s.Draft(ctx, "d")
	if err != nil || d.Rev != head {
		t.Fatalf("Draft of a full Redis: rev %d, %v; want %d", d.Rev, err, head)
	}
	ops, err := s.Ops(ctx, "d", 1, 1<<30)
	if err != nil || len(ops) != head {
		t.Fatalf("Ops of a full Redis: %d, %v; want %d", len(ops), err, head)
	}
	if _, err := s.SeqRev(ctx, "d", "tok:c", "c", uint64(head+1), 0); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the refused commit left a dedupe entry: %v", err)
	}
}

// TestRedisLostReply loses the replies of commits that Redis did run. With
// no retries, Commit reports ErrUnavailable (outcome unknown) and the op is
// in the log, published to the other nodes. With go-redis's retries, the
// retry finds the call's own nonce and Commit reports success, not a
// conflict, with the op in the log once.
func TestRedisLostReply(t *testing.T) {
	t.Parallel() // its own redis-server(s)
	rs := startRedisServer(t)
	hole := newBlackhole(t, fmt.Sprintf("127.0.0.1:%d", rs.Port))
	ctx := context.Background()
	direct := openRedis(t, rs.URL(), storage.RedisOptions{NodeID: "direct"})
	create(t, direct, "d")
	if err := direct.Watch(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	// Redis's script cache is per server: this commit loads the script, so
	// that the EVALSHAs below run instead of answering NOSCRIPT.
	if err := direct.Commit(ctx, "d", 0, dr.Commit{Ops: testOps(0, 1, "x")}); err != nil {
		t.Fatal(err)
	}
	nextEvent(t, direct.Events(), storage.EventOps)
	base := "redis://" + hole.ln.Addr().String() + "/0?read_timeout=1s&dial_timeout=1s"

	noRetry := openRedis(t, base+"&max_retries=-1", storage.RedisOptions{NodeID: "cut"})
	hole.pauseReplies()
	err := noRetry.Commit(ctx, "d", 1, dr.Commit{Ops: testOps(1, 1, "a")})
	hole.unpause()
	if !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("Commit whose reply is lost: got %v, want ErrUnavailable", err)
	}
	if ops, err := direct.Ops(ctx, "d", 2, 10); err != nil || len(ops) != 1 || ops[0].Client != "a" {
		t.Fatalf("the commit with the lost reply: log %+v, %v; want it there", ops, err)
	}
	if e := nextEvent(t, direct.Events(), storage.EventOps); e.Node != "cut" || e.Ops[0].Rev != 2 {
		t.Errorf("event of the commit with the lost reply: %+v", e)
	}

	retry := openRedis(t, base, storage.RedisOptions{NodeID: "cut"})
	if _, err := retry.Draft(ctx, "d"); err != nil { // a pooled connection, the script loaded
		t.Fatal(err)
	}
	held := hole.held.Load()
	hole.pauseReplies()
	done := make(chan error, 1)
	go func() { done <- retry.Commit(ctx, "d", 2, dr.Commit{Ops: testOps(2, 1, "b")}) }()
	// The first attempt's reply is held; once the attempt has timed out
	// (1s) go-redis retries, and its traffic is held too: then let the
	// retry's reply through.
	testenv.Until(t, "go-redis to retry the commit whose reply is held", func() bool { return hole.held.Load() >= held+2 })
	hole.unpause()
	if err := <-done; err != nil {
		t.Fatalf("Commit retried by go-redis after a lost reply: got %v, want nil", err)
	}
	ops, err := direct.Ops(ctx, "d", 1, 10)
	if err != nil || len(ops) != 3 || ops[1].Client != "a" || ops[2].Client != "b" {
		t.Fatalf("after the retried commit: log %+v, %v; want x, a, b, once each", ops, err)
	}
}
