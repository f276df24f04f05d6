package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/draftroom/draftroom/internal/redistest"
)

// TestListenFailureStopsServer: when the address is taken, run returns the
// error having shut the server down: the fan-out loops it started for the
// Redis store do not outlive it.
func TestListenFailureStopsServer(t *testing.T) {
	url := redistest.Start(t).URL() // answers PING when Start returns
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cfg, err := parseConfig([]string{"-addr", taken.Addr().String(), "-redis", url, "-open"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	err = run(context.Background(), cfg, io.Discard, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("run on a taken address: %v, want address in use", err)
	}
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	for _, fn := range []string{"(*Server).fanLoop", "(*Server).presenceLoop", "(*Server).liveLoop"} {
		if strings.Contains(stacks, fn) {
			t.Errorf("%s still runs after run returned", fn)
		}
	}
}
