// Package traces reads the shared editing traces (/work/shared/traces,
// from josephg/editing-traces) for the tests and benchmarks of ot,
// history and server: the one loader they all use, so that they replay
// the same patches and skip the same way when the traces are missing.
package traces

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Dir is where the shared editing traces live, seen from the directory of
// a package one level below the module root (ot, history, server), which
// is the working directory of that package's tests: /work/shared beside
// the checkout.
const Dir = "../../shared/traces"

// ErrBadTrace is wrapped by every error Read returns.
var ErrBadTrace = errors.New("traces: bad trace")

// Patch is one edit of a sequential trace: at code point Pos, delete Del
// code points, then insert Ins. Time is the time of the patch's txn.
type Patch struct {
	Pos, Del int
	Ins      string
	Time     time.Time
}

// Trace is a sequential editing trace: applying Patches in order to Start
// gives End.
type Trace struct {
	Start, End string
	Patches    []Patch
}

// Read decodes a gzipped sequential trace. A patch that is not
// [whole number >= 0, whole number >= 0, string] is an error.
func Read(r io.Reader) (Trace, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return Trace{}, fmt.Errorf("%w: %w", ErrBadTrace, err)
	}
	defer zr.Close()
	var raw struct {
		StartContent string `json:"startContent"`
		EndContent   string `json:"endContent"`
		Txns         []struct {
			Time    time.Time `json:"time"`
			Patches [][]any   `json:"patches"`
		} `json:"txns"`
	}
	if err := json.NewDecoder(zr).Decode(&raw); err != nil {
		return Trace{}, fmt.Errorf("%w: %w", ErrBadTrace, err)
	}
	tr := Trace{Start: raw.StartContent, End: raw.EndContent}
	for _, txn := range raw.Txns {
		for _, p := range txn.Patches {
			pos, del, ins, ok := patch(p)
			if !ok {
				return Trace{}, fmt.Errorf("%w: patch %d is %v", ErrBadTrace, len(tr.Patches), p)
			}
			tr.Patches = append(tr.Patches, Patch{Pos: pos, Del: del, Ins: ins, Time: txn.Time})
		}
	}
	return tr, nil
}

// patch checks and converts one decoded [pos, del, ins].
func patch(p []any) (pos, del int, ins string, ok bool) {
	if len(p) != 3 {
		return 0, 0, "", false
	}
	fpos, ok1 := p[0].(float64)
	fdel, ok2 := p[1].(float64)
	ins, ok3 := p[2].(string)
	if !ok1 || !ok2 || !ok3 || !whole(fpos) || !whole(fdel) {
		return 0, 0, "", false
	}
	return int(fpos), int(fdel), ins, true
}

// whole reports whether f is a whole number a patch can count with.
func whole(f float64) bool {
	return f >= 0 && f <= math.MaxInt32 && f == math.Trunc(f)
}

// Load reads the trace name from Dir. It skips tb, saying why, when the
// file is not there (the traces are kept beside the checkout, not in it),
// and fails tb when it is there but cannot be read.
func Load(tb testing.TB, name string) Trace {
	tb.Helper()
	return LoadFrom(tb, Dir, name)
}

// LoadFrom is Load from another directory.
func LoadFrom(tb testing.TB, dir, name string) Trace {
	tb.Helper()
	path := filepath.Join(dir, name)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		tb.Skipf("trace %s not found in %s (the shared editing traces live in shared/traces beside the checkout); skipping", name, dir)
	}
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	tr, err := Read(f)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return tr
}
