package history

import (
	"sync"
	"testing"
	"time"

	"github.com/draftroom/draftroom/internal/traces"
	"github.com/draftroom/draftroom/ot"
)

// trace is a sequential editing trace (internal/traces) as ops: op i
// (0-based) is revision i+1. Every txn of the traces we use has exactly one
// patch.
type trace struct {
	start, end string
	ops        []ot.Op
	times      []time.Time
}

var (
	traceMu    sync.Mutex
	traceCache = map[string]*trace{}
)

// loadTrace reads a trace once per test binary, or skips the test when the
// shared traces are not on this machine.
func loadTrace(tb testing.TB, name string) *trace {
	tb.Helper()
	traceMu.Lock()
	defer traceMu.Unlock()
	if t, ok := traceCache[name]; ok {
		return t
	}
	raw := traces.Load(tb, name)
	t := &trace{start: raw.Start, end: raw.End}
	for _, p := range raw.Patches {
		var op ot.Op
		if p.Pos > 0 {
			op = append(op, ot.Component{Skip: p.Pos})
		}
		if p.Ins != "" {
			op = append(op, ot.Component{Insert: p.Ins})
		}
		if p.Del > 0 {
			op = append(op, ot.Component{Delete: p.Del})
		}
		t.ops = append(t.ops, op)
		t.times = append(t.times, p.Time)
	}
	traceCache[name] = t
	return t
}
