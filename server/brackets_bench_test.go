package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/draftroom/draftroom/brackets"
	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/storage"
)

// CompilationText is a draft the size of a full compilation text (issue
// 13): 1,200,000 code points with 5,000 bracket groups, half of them in
// chains nested 5 deep, the rest optional text, alternatives with '/',
// touching brackets and "or", in English, Arabic and Chinese. Exported for
// the benchmarks of package server_test.
func CompilationText() string {
	units := []string{
		"States Parties [shall/should] [, in accordance with their national circumstances,] provide [new and additional] [financial] resources [to ensure] or [to promote] the protection of 中国的海洋环境. ",
		"[Each Party [shall [, where [appropriate [and/or] feasible,] take] measures] adopt] legislation; تعتمد الدول التدابير. ",
	}
	filler := strings.Repeat("The Conference of the Parties shall keep under review the implementation of this Agreement. ", 11) + "Lorem ipsum dolor sit amet. "
	var b strings.Builder
	for i := 0; i < 1000; i++ {
		b.WriteString(units[i%2])
		b.WriteString(filler)
	}
	return b.String()
}

func TestCompilationTextShape(t *testing.T) {
	text := CompilationText()
	res := brackets.Parse(text)
	n := utf8.RuneCountInString(text)
	deepest := 0
	for _, g := range res.Groups {
		deepest = max(deepest, g.Depth)
	}
	if n < 1_150_000 || n > 1_250_000 || len(res.Groups) != 5000 || deepest != 4 || len(res.Diagnostics) != 0 {
		t.Fatalf("compilation text: %d code points, %d groups, depth %d, %d diagnostics", n, len(res.Groups), deepest+1, len(res.Diagnostics))
	}
}

// BenchmarkBracketOwnerOp: the bracket observer's work on the draft's owner
// for one op on the compilation text: "add-open" types a '[' (half the
// time into a group, unbalancing the text from there on), "remove-open"
// deletes it again, "typing" types a letter inside an alternative.
//
//	go test -run '^$' -bench BracketOwnerOp ./server
func BenchmarkBracketOwnerOp(b *testing.B) {
	text := CompilationText()
	o, err := restoreBrackets(dr.Draft{ID: "bench"}, dr.Snapshot{Text: text}, true)
	if err != nil {
		b.Fatal(err)
	}
	n := utf8.RuneCountInString(text)
	rev := 0
	tx := ot.NewText(text) // the owner's text
	apply := func(op ot.Op) {
		rev++
		if _, err := tx.Apply(op); err != nil {
			b.Fatal(err)
		}
		o.ApplyOp(dr.Op{Op: op, Rev: rev}, tx)
		if o.Err() != nil {
			b.Fatal(o.Err())
		}
	}
	b.Run("add-remove-open", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			pos := (i * 7919) % n
			apply(ot.Op{ot.Skip(pos), ot.Insert("[")})
			apply(ot.Op{ot.Skip(pos), ot.Delete(1)})
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(2*b.N), "ns/bracket-op")
	})
	b.Run("typing", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			apply(ot.Op{ot.Skip(20 + (i*7919)%(n-40)), ot.Insert("a")})
		}
	})
}

// BenchmarkBracketListingCompilation: the listing of the compilation text
// at a new revision (one op since the last listing), through HTTP.
//
//	go test -run '^$' -bench BracketListingCompilation ./server
func BenchmarkBracketListingCompilation(b *testing.B) {
	text := CompilationText()
	store := storage.NewMemory()
	if err := store.CreateDraft(context.Background(), dr.Draft{ID: "bench", Title: "bench"}, text); err != nil {
		b.Fatal(err)
	}
	s := New(Config{Open: true, MaxDraftLen: 1 << 22}, store, nil)
	b.Cleanup(func() { s.Shutdown(context.Background()) })
	h := s.Handler()
	by := dr.Identity{Author: dr.Author{Delegation: "CAN", Name: "Ana"}, Role: dr.RoleDrafter}
	i := 0
	size := 0
	for b.Loop() {
		b.StopTimer()
		i++
		_, err := s.submitBuilt(context.Background(), "bench", by, func(st *DraftState) (Built, error) {
			return Built{Op: ot.Op{ot.Skip((i * 7919) % st.Text().Len()), ot.Insert("a")}}, nil
		})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/docs/bench/brackets", nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		size = rec.Body.Len()
	}
	b.ReportMetric(float64(size), "listing-bytes")
}

// TestBracketsDeepNestingCost: a drafter's op of 20,000 nested brackets.
// The listing and every export stay within 10 times the text's size, and
// the server's memory grows by far less than 100 MB (issue 13; it was 404
// MB of listing and 4.7 GB of memory).
func TestBracketsDeepNestingCost(t *testing.T) {
	const depth = 20_000
	text := strings.Repeat("[a ", depth) + "x/y" + strings.Repeat("]", depth)
	store := storage.NewMemory()
	if err := store.CreateDraft(context.Background(), dr.Draft{ID: "deep", Title: "deep"}, ""); err != nil {
		t.Fatal(err)
	}
	s := New(Config{Open: true}, store, nil)
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	by := dr.Identity{Author: dr.Author{Delegation: "CAN", Name: "Ana"}, Role: dr.RoleDrafter}
	if err := store.CreateDraft(context.Background(), dr.Draft{ID: "other", Title: "other"}, "Another article."); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	rss0 := rssBytes()
	if _, err := s.submitBuilt(context.Background(), "deep", by, func(st *DraftState) (Built, error) {
		return Built{Op: ot.Op{ot.Insert(text)}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	// Another draft is edited meanwhile: its acks must not wait for the
	// deep one's listing and exports.
	stop := make(chan struct{})
	worst := make(chan time.Duration, 1)
	go func() {
		var w time.Duration
		defer func() { worst <- w }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			t0 := time.Now()
			if _, err := s.submitBuilt(context.Background(), "other", by, func(st *DraftState) (Built, error) {
				return Built{Op: ot.Op{ot.Insert("a")}}, nil
			}); err != nil {
				t.Error(err)
				return
			}
			w = max(w, time.Since(t0))
		}
	}()
	start := time.Now()
	var peak uint64
	for _, path := range []string{"/api/docs/deep/brackets", "/api/docs/deep/export?format=txt",
		"/api/docs/deep/export?format=md", "/api/docs/deep/export?format=html"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d: %.200s", path, rec.Code, rec.Body)
		}
		if rec.Body.Len() > 10*len(text) {
			t.Errorf("%s: %d bytes for a text of %d", path, rec.Body.Len(), len(text))
		}
		t.Logf("%s: %d bytes (%.1f× the text)", path, rec.Body.Len(), float64(rec.Body.Len())/float64(len(text)))
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		peak = max(peak, m.HeapInuse)
	}
	close(stop)
	if w := <-worst; w > time.Second {
		t.Errorf("another draft's op waited %v while the deep draft was listed and exported", w)
	} else {
		t.Logf("another draft's slowest op meanwhile: %v", w)
	}
	if rss0 > 0 {
		t.Logf("RSS grew by %.1f MB", float64(rssBytes()-rss0)/(1<<20))
	}
	if grew := int64(peak) - int64(before.HeapInuse); grew > 100<<20 {
		t.Errorf("heap grew by %d MB", grew>>20)
	} else {
		t.Logf("heap in use grew by %.1f MB at most; listing and exports took %v", float64(grew)/(1<<20), time.Since(start))
	}
	l, err := s.bracketListing(context.Background(), "deep", -1)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.res.Groups) != brackets.MaxDepth || len(l.res.Diagnostics) != 1 || l.res.Diagnostics[0].Code != brackets.DiagTooDeep {
		t.Errorf("%d groups, diagnostics %v; want %d groups and one too_deep", len(l.res.Groups), l.res.Diagnostics, brackets.MaxDepth)
	}
}

// rssBytes is the process's resident set size, from /proc (0 elsewhere).
func rssBytes() int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}
