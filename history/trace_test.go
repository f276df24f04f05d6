package history

import (
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/draftroom/draftroom/ot"
)

// traceDir is where the shared editing traces live, relative to this
// package's directory (see /work/shared/traces/README.md).
const traceDir = "../../shared/traces"

// trace is a sequential editing trace as ops: op i (0-based) is revision
// i+1. Every txn of the traces we use has exactly one patch.
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
	path := filepath.Join(traceDir, name)
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		tb.Skipf("trace %s not found (the shared editing traces live in %s); skipping", name, traceDir)
	}
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	var raw struct {
		StartContent string `json:"startContent"`
		EndContent   string `json:"endContent"`
		Txns         []struct {
			Time    time.Time `json:"time"`
			Patches [][]any   `json:"patches"`
		} `json:"txns"`
	}
	if err := json.NewDecoder(zr).Decode(&raw); err != nil {
		tb.Fatalf("decode %s: %v", path, err)
	}
	t := &trace{start: raw.StartContent, end: raw.EndContent}
	for _, txn := range raw.Txns {
		for _, p := range txn.Patches {
			if len(p) != 3 {
				tb.Fatalf("%s: bad patch %v", path, p)
			}
			fpos, ok1 := p[0].(float64)
			fdel, ok2 := p[1].(float64)
			ins, ok3 := p[2].(string)
			if !ok1 || !ok2 || !ok3 {
				tb.Fatalf("%s: bad patch %v", path, p)
			}
			pos, del := int(fpos), int(fdel)
			var op ot.Op
			if pos > 0 {
				op = append(op, ot.Component{Skip: pos})
			}
			if ins != "" {
				op = append(op, ot.Component{Insert: ins})
			}
			if del > 0 {
				op = append(op, ot.Component{Delete: del})
			}
			t.ops = append(t.ops, op)
			t.times = append(t.times, txn.Time)
		}
	}
	traceCache[name] = t
	return t
}
