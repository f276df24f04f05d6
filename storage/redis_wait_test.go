package storage_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/internal/redistest"
	"github.com/draftroom/draftroom/internal/testenv"
	"github.com/draftroom/draftroom/storage"
)

// lockedBuffer is a log destination read while it is written.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitLog waits until the log holds want (polled: testenv.Until).
func waitLog(t *testing.T, logs *lockedBuffer, want string) {
	t.Helper()
	testenv.Until(t, fmt.Sprintf("the log to say %q", want), func() bool { return strings.Contains(logs.String(), want) })
}

type opened struct {
	s   *storage.Redis
	err error
}

func openAsync(url string, wait time.Duration, logs io.Writer) chan opened {
	out := make(chan opened, 1)
	go func() {
		s, err := storage.OpenRedisURL(url, storage.RedisOptions{Prefix: "wait:", StartupWait: wait, Logger: slog.New(slog.NewTextHandler(logs, nil))})
		out <- opened{s, err}
	}()
	return out
}

func usable(t *testing.T, o opened) {
	t.Helper()
	if o.err != nil {
		t.Fatalf("OpenRedisURL: %v", o.err)
	}
	defer o.s.Close()
	if err := o.s.CreateDraft(context.Background(), dr.Draft{ID: "d"}, "x"); err != nil {
		t.Fatalf("the store does not work: %v", err)
	}
}

// TestRedisStartupWaitUnreachable: a node started before its Redis waits
// for it, saying so, instead of exiting at once.
func TestRedisStartupWaitUnreachable(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	var logs lockedBuffer
	done := openAsync(srv.URL(), 30*time.Second, &logs)
	waitLog(t, &logs, "redis is not ready")
	select {
	case o := <-done:
		t.Fatalf("OpenRedisURL returned before Redis started: %v", o.err)
	default:
	}
	srv.Start()
	usable(t, <-done)
	if !strings.Contains(logs.String(), "redis is ready") {
		t.Errorf("no line says Redis became ready:\n%s", logs.String())
	}
}

// TestRedisStartupWaitLoading: a Redis that answers LOADING (reading its
// append-only file after a restart) is waited for. A proxy answers
// -LOADING to every command until told to pass them to a real Redis.
func TestRedisStartupWaitLoading(t *testing.T) {
	t.Parallel()
	real := redistest.Start(t)
	var loading atomic.Bool
	loading.Store(true)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go loadingProxy(c, real.Port, &loading)
		}
	}()
	var logs lockedBuffer
	done := openAsync(fmt.Sprintf("redis://%s/0", ln.Addr()), 30*time.Second, &logs)
	waitLog(t, &logs, "LOADING")
	loading.Store(false)
	usable(t, <-done)
}

// loadingProxy answers each command on c with -LOADING while loading is
// set, closing c once it is not; a connection accepted after that is
// relayed to the Redis on port.
func loadingProxy(c net.Conn, port int, loading *atomic.Bool) {
	defer c.Close()
	if !loading.Load() {
		up, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			return
		}
		defer up.Close()
		go io.Copy(up, c)
		io.Copy(c, up)
		return
	}
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil || !loading.Load() {
			return // loaded: the client reconnects, and is relayed
		}
		if strings.HasPrefix(line, "*") { // a command (RESP array)
			if _, err := c.Write([]byte("-LOADING Redis is loading the dataset in memory\r\n")); err != nil {
				return
			}
		}
	}
}

// TestRedisStartupWaitGivesUp: past the limit, the open fails with a
// message that says how long it waited and which flag sets it.
func TestRedisStartupWaitGivesUp(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t) // never started
	var logs lockedBuffer
	start := time.Now()
	o := <-openAsync(srv.URL(), 400*time.Millisecond, &logs)
	if o.err == nil {
		o.s.Close()
		t.Fatal("OpenRedisURL succeeded with no Redis")
	}
	if !errors.Is(o.err, storage.ErrUnavailable) || !strings.Contains(o.err.Error(), "not ready after waiting 400ms") || !strings.Contains(o.err.Error(), "-redis-wait") {
		t.Errorf("error: %v, want ErrUnavailable saying it waited 400ms and naming -redis-wait", o.err)
	}
	if took := time.Since(start); took < 400*time.Millisecond {
		t.Errorf("gave up after %s, before the limit", took)
	}
}
