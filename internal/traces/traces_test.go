package traces

import (
	"bytes"
	"compress/gzip"
	"errors"
	"testing"
	"time"
)

func gz(t *testing.T, s string) *bytes.Reader {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(b.Bytes())
}

func TestRead(t *testing.T) {
	tr, err := Read(gz(t, `{"startContent":"ab","endContent":"xaé","txns":[
		{"time":"2021-04-19T06:06:58.219Z","patches":[[0,0,"x"],[2,1,"é"]]},
		{"time":"1970-01-01T00:00:00+00:00","patches":[[3,0,""]]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	t1 := time.Date(2021, 4, 19, 6, 6, 58, 219e6, time.UTC)
	want := []Patch{{0, 0, "x", t1}, {2, 1, "é", t1}, {3, 0, "", time.Unix(0, 0)}}
	if tr.Start != "ab" || tr.End != "xaé" || len(tr.Patches) != len(want) {
		t.Fatalf("got %+v", tr)
	}
	for i, p := range tr.Patches {
		w := want[i]
		if p.Pos != w.Pos || p.Del != w.Del || p.Ins != w.Ins || !p.Time.Equal(w.Time) {
			t.Errorf("patch %d: got %+v, want %+v", i, p, w)
		}
	}
}

func TestReadRejects(t *testing.T) {
	for _, patches := range []string{
		`[0, 0]`, `[0, 0, "x", 1]`, `["0", 0, "x"]`, `[0, null, "x"]`, `[0, 0, 5]`,
		`[-1, 0, "x"]`, `[0, 1.5, "x"]`, `[1e12, 0, "x"]`,
	} {
		_, err := Read(gz(t, `{"txns":[{"patches":[`+patches+`]}]}`))
		if !errors.Is(err, ErrBadTrace) {
			t.Errorf("patch %s: err %v, want ErrBadTrace", patches, err)
		}
	}
	for _, s := range []string{`{"txns":`, `{"txns":[{"time":"yesterday"}]}`} {
		if _, err := Read(gz(t, s)); !errors.Is(err, ErrBadTrace) {
			t.Errorf("%s: err %v, want ErrBadTrace", s, err)
		}
	}
	if _, err := Read(bytes.NewReader([]byte(`{"txns":[]}`))); !errors.Is(err, ErrBadTrace) {
		t.Errorf("not gzipped: err %v, want ErrBadTrace", err)
	}
}

func TestLoadSkipsWhenMissing(t *testing.T) {
	var skipped bool
	t.Run("missing", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		LoadFrom(t, t.TempDir(), "nope.json.gz")
		t.Error("LoadFrom returned for a missing trace")
	})
	if !skipped {
		t.Error("a missing trace did not skip the test")
	}
}

// TestSharedTraces checks that the two small shared traces load and are
// not empty (see shared/traces/README.md; ot's tests replay all four).
func TestSharedTraces(t *testing.T) {
	for _, name := range []string{"sveltecomponent.json.gz", "friendsforever_flat.json.gz"} {
		tr := LoadFrom(t, "../"+Dir, name)
		if len(tr.Patches) < 10000 || tr.End == "" {
			t.Errorf("%s: %d patches, end %d bytes", name, len(tr.Patches), len(tr.End))
		}
	}
}
