package history

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/storage"
)

// t0 is a clock reading well inside an EntrySpan bucket.
var t0 = time.Date(2026, 11, 23, 10, 0, 30, 0, time.UTC).UnixMilli()

type opSpec struct {
	who    dr.Author
	client string
	dt     int64 // ms after the previous op
	kind   string
	op     ot.Op
}

// buildOps numbers specs as revisions 1.. with principals derived from the
// author (open mode).
func buildOps(specs []opSpec) []dr.Op {
	var ops []dr.Op
	ts := t0
	for i, s := range specs {
		ts += s.dt
		op := s.op
		if op == nil {
			op = ot.Op{{Insert: "x"}}
		}
		ops = append(ops, dr.Op{
			Rev: i + 1, Op: op, Client: s.client, Seq: uint64(i + 1),
			Principal: "open:" + s.who.Delegation + "/" + s.who.Name,
			By:        s.who, TS: ts, Kind: s.kind,
		})
	}
	return ops
}

func TestTimelineGrouping(t *testing.T) {
	type span struct{ From, To int }
	tests := []struct {
		name  string
		specs []opSpec
		want  []span
	}{
		{"one burst", []opSpec{{ana, "a1", 0, "", nil}, {ana, "a1", 500, "", nil}, {ana, "a1", 2999, "", nil}}, []span{{1, 3}}},
		{"pause ends an entry", []opSpec{{ana, "a1", 0, "", nil}, {ana, "a1", 3000, "", nil}, {ana, "a1", 100, "", nil}}, []span{{1, 1}, {2, 3}}},
		{"other client", []opSpec{{ana, "a1", 0, "", nil}, {ana, "a2", 10, "", nil}, {ana, "a2", 10, "", nil}}, []span{{1, 1}, {2, 3}}},
		{"other author same client id", []opSpec{{ana, "c", 0, "", nil}, {ben, "c", 10, "", nil}}, []span{{1, 1}, {2, 2}}},
		{"interleaved clients", []opSpec{{ana, "a", 0, "", nil}, {ben, "b", 10, "", nil}, {ana, "a", 10, "", nil}}, []span{{1, 1}, {2, 2}, {3, 3}}},
		{"propose alone", []opSpec{{ana, "a", 0, "", nil}, {ana, "_draftroom", 10, dr.KindPropose, nil}, {ana, "a", 10, "", nil}}, []span{{1, 1}, {2, 2}, {3, 3}}},
		{"two resolves alone", []opSpec{{ana, "_draftroom", 0, dr.KindResolve, nil}, {ana, "_draftroom", 10, dr.KindResolve, nil}}, []span{{1, 1}, {2, 2}}},
		{"import alone", []opSpec{{ben, "b", 0, "", nil}, {ben, "_draftroom", 10, dr.KindImport, nil}, {ben, "b", 10, "", nil}}, []span{{1, 1}, {2, 2}, {3, 3}}},
		// t0 is 30 s into a 5-minute bucket: op 1 is at 4:59.5 into it,
		// op 2 one second later in the next bucket.
		{"clock bucket ends an entry", []opSpec{{ana, "a", 269500, "", nil}, {ana, "a", 1000, "", nil}, {ana, "a", 1000, "", nil}}, []span{{1, 1}, {2, 3}}},
		{"clock goes back", []opSpec{{ana, "a", 0, "", nil}, {ana, "a", -5, "", nil}}, []span{{1, 1}, {2, 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries := Timeline(buildOps(tt.specs), 0)
			var got []span
			for _, e := range entries {
				got = append(got, span{e.From, e.To})
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("entries %v, want %v", got, tt.want)
			}
		})
	}
	// The same three ops inside one bucket are one entry.
	ops := buildOps([]opSpec{{ana, "a", 0, "", nil}, {ana, "a", 1000, "", nil}, {ana, "a", 1000, "", nil}})
	if got := Timeline(ops, 0); len(got) != 1 {
		t.Fatalf("three ops 1 s apart in one bucket: %d entries", len(got))
	}
}

func TestTimelineEntryContents(t *testing.T) {
	// Ana types "helo", backspaces once, types "lo": the preview is what
	// stands at the end, the counts are gross.
	var specs []opSpec
	for i, ch := range "helo" {
		specs = append(specs, opSpec{ana, "a", 200, "", insertAt(10+i, string(ch))})
	}
	specs = append(specs, opSpec{ana, "a", 200, "", ot.Op{{Skip: 13}, {Delete: 1}}})
	specs = append(specs, opSpec{ana, "a", 200, "", insertAt(13, "l")}, opSpec{ana, "a", 200, "", insertAt(14, "o 😭")})
	// Ben deletes 7 code points elsewhere; then a proposal.
	specs = append(specs, opSpec{ben, "b", 200, "", ot.Op{{Skip: 2}, {Delete: 7}}})
	specs = append(specs, opSpec{chi, "_draftroom", 200, dr.KindPropose, ot.Op{{Skip: 1}, {Insert: "/may"}}})
	ops := buildOps(specs)
	ops[len(ops)-1].Group = "b12.3"
	entries := Timeline(ops, 0)
	if len(entries) != 3 {
		t.Fatalf("got %d entries %v, want 3", len(entries), entries)
	}
	a := entries[0]
	if a.From != 1 || a.To != 7 || a.Ops != 7 || a.Inserted != 8 || a.Deleted != 1 || a.Preview != "hello 😭" || a.By != ana || a.Client != "a" {
		t.Fatalf("Ana's entry = %+v", a)
	}
	if a.Start != t0+200 || a.End != t0+1400 {
		t.Fatalf("Ana's entry times %d..%d, want %d..%d", a.Start, a.End, t0+200, t0+1400)
	}
	if !strings.Contains(a.Summary, `"hello 😭"`) {
		t.Fatalf("Ana's summary = %q", a.Summary)
	}
	if b := entries[1]; b.Deleted != 7 || b.Inserted != 0 || b.Summary != "deleted 7 characters" {
		t.Fatalf("Ben's entry = %+v", b)
	}
	if p := entries[2]; p.Kind != dr.KindPropose || p.Group != "b12.3" || !strings.Contains(p.Summary, "b12.3") {
		t.Fatalf("proposal entry = %+v", p)
	}
	if s := entries[2].String(); s != "9..9 CHN/Chi [propose] proposed an alternative in bracket group b12.3" {
		t.Fatalf("String() = %q", s)
	}
	// A long paste is cut to the preview length.
	long := strings.Repeat("ab", 300)
	e := Timeline(buildOps([]opSpec{{ana, "a", 0, "", ot.Op{{Insert: long}}}}), 0)[0]
	if want := long[:previewLen] + "…"; e.Preview != want {
		t.Fatalf("preview of a long paste = %q, want %q", e.Preview, want)
	}
	// A backspace over "two" and further erases "two" only; typing goes on
	// from there; a delete before the cursor moves it.
	e = Timeline(buildOps([]opSpec{
		{ana, "a", 0, "", insertAt(5, "one")},
		{ana, "a", 10, "", insertAt(40, "two")},
		{ana, "a", 10, "", ot.Op{{Skip: 38}, {Delete: 5}}}, // "two" and 2 before it
		{ana, "a", 10, "", insertAt(38, "X")},
		{ana, "a", 10, "", ot.Op{{Skip: 2}, {Delete: 3}}},
		{ana, "a", 10, "", insertAt(36, "Y")},
	}), 0)[0]
	if e.Preview != "one … XY" {
		t.Fatalf("preview = %q", e.Preview)
	}
	// Erasing all that was typed in the second place leaves the first.
	e = Timeline(buildOps([]opSpec{
		{ana, "a", 0, "", insertAt(5, "one")},
		{ana, "a", 10, "", insertAt(40, "two")},
		{ana, "a", 10, "", ot.Op{{Skip: 40}, {Delete: 3}}},
	}), 0)[0]
	if e.Preview != "one" || e.Inserted != 6 || e.Deleted != 3 {
		t.Fatalf("entry = %+v", e)
	}
	// Typing in two places joins them.
	e = Timeline(buildOps([]opSpec{{ana, "a", 0, "", insertAt(5, "one")}, {ana, "a", 10, "", insertAt(40, "two")}}), 0)[0]
	if e.Preview != "one … two" {
		t.Fatalf("preview of typing in two places = %q", e.Preview)
	}
}

// randomHistory makes n ops from a few clients with bursts and pauses.
func randomHistory(rng *rand.Rand, n int) []dr.Op {
	who := []dr.Author{ana, ben, chi}
	var specs []opSpec
	cur := 0
	for i := 0; i < n; i++ {
		if rng.IntN(20) == 0 {
			cur = rng.IntN(len(who))
		}
		dt := int64(100 + rng.IntN(400))
		if rng.IntN(15) == 0 {
			dt = int64(3000 + rng.IntN(60000))
		}
		kind := ""
		switch rng.IntN(60) {
		case 0:
			kind = dr.KindPropose
		case 1:
			kind = dr.KindResolve
		case 2:
			kind = dr.KindImport
		}
		specs = append(specs, opSpec{who[cur], fmt.Sprint("c", cur), dt, kind, insertAt(rng.IntN(5), "x")})
	}
	return buildOps(specs)
}

// sliceLoader serves ops like storage.Ops and counts what it loaded. It
// hands out views of its own slice, as an in-memory store might, so a Page
// that wrote into them would corrupt ops (TestPageStable would see it).
func sliceLoader(ops []dr.Op, loaded *int) Loader {
	return func(_ context.Context, from, to int) ([]dr.Op, error) {
		to = min(to, len(ops))
		if from < 1 || from > to {
			return nil, nil
		}
		*loaded += to - from + 1
		return ops[from-1 : to], nil
	}
}

// TestPageStable: the pages of a history, whatever their sizes, are the
// whole Timeline newest first; and a page reads only ops near its end.
func TestPageStable(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	ops := randomHistory(rng, 3000)
	all := Timeline(ops, 0)
	slices.Reverse(all)
	for _, limit := range []int{3, 50, 1000, 10000} {
		t.Run(fmt.Sprint("limit", limit), func(t *testing.T) {
			var got []Entry
			before := 0
			for pages := 0; ; pages++ {
				if pages > len(ops) {
					t.Fatal("paging does not end")
				}
				loaded := 0
				page, next, err := Page(context.Background(), sliceLoader(ops, &loaded), len(ops), before, limit, 0)
				if err != nil {
					t.Fatal(err)
				}
				if len(page) > limit || (next != 0 && len(page) != limit) {
					t.Fatalf("page of %d entries with next %d, limit %d", len(page), next, limit)
				}
				if limit <= 50 && loaded > 4*pageChunk {
					t.Fatalf("a page of %d entries loaded %d ops", limit, loaded)
				}
				got = append(got, page...)
				if next == 0 {
					break
				}
				if next >= before && before != 0 {
					t.Fatalf("cursor did not move back: before %d, next %d", before, next)
				}
				before = next
			}
			if !reflect.DeepEqual(got, all) {
				t.Fatalf("pages give %d entries, Timeline %d; first difference at %d", len(got), len(all), firstDiff(got, all))
			}
		})
	}
	// A page taken before more ops were appended is the same after.
	loaded := 0
	first, next, err := Page(context.Background(), sliceLoader(ops[:2000], &loaded), 2000, 0, 20, 0)
	if err != nil {
		t.Fatal(err)
	}
	second, _, _ := Page(context.Background(), sliceLoader(ops, &loaded), len(ops), next, 20, 0)
	second0, _, _ := Page(context.Background(), sliceLoader(ops[:2000], &loaded), 2000, next, 20, 0)
	if !reflect.DeepEqual(second, second0) || len(first) != 20 {
		t.Fatalf("the page after cursor %d changed when ops were appended", next)
	}
}

func firstDiff(a, b []Entry) int {
	for i := range min(len(a), len(b)) {
		if !reflect.DeepEqual(a[i], b[i]) {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestPageEdges(t *testing.T) {
	ops := randomHistory(rand.New(rand.NewPCG(1, 2)), 50)
	loaded := 0
	load := sliceLoader(ops, &loaded)
	if page, next, err := Page(context.Background(), load, 0, 0, 10, 0); err != nil || page != nil || next != 0 {
		t.Fatalf("empty history: %v %d %v", page, next, err)
	}
	if page, _, err := Page(context.Background(), load, 50, 1, 10, 0); err != nil || page != nil {
		t.Fatalf("before 1: %v %v", page, err)
	}
	boom := errors.New("redis down")
	_, _, err := Page(context.Background(), func(context.Context, int, int) ([]dr.Op, error) { return nil, boom }, 50, 0, 10, 0)
	if !errors.Is(err, boom) {
		t.Fatalf("loader error = %v, want it wrapped", err)
	}
	_, _, err = Page(context.Background(), func(context.Context, int, int) ([]dr.Op, error) { return ops[:3], nil }, 50, 0, 10, 0)
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("short load = %v, want ErrNotFound", err)
	}
}

// TestPageLeavesLoadedSlices: Page never writes into what the loader
// returned, even past its length (a store may hand out views of its own
// buffers).
func TestPageLeavesLoadedSlices(t *testing.T) {
	ops := randomHistory(rand.New(rand.NewPCG(5, 5)), 3000)
	var bufs [][]dr.Op
	load := func(_ context.Context, from, to int) ([]dr.Op, error) {
		to = min(to, len(ops))
		buf := make([]dr.Op, 0, (to-from+1)*3)
		buf = append(buf, ops[from-1:to]...)
		bufs = append(bufs, buf)
		return buf, nil
	}
	if _, _, err := Page(context.Background(), load, len(ops), 0, 200, 0); err != nil {
		t.Fatal(err)
	}
	if len(bufs) < 2 {
		t.Fatalf("only %d loads: the test needs Page to load more than once", len(bufs))
	}
	for _, buf := range bufs {
		for _, op := range buf[len(buf):cap(buf)] {
			if op.Rev != 0 {
				t.Fatalf("Page wrote op %d past the end of a loaded slice", op.Rev)
			}
		}
	}
}

func TestRevAt(t *testing.T) {
	ops := randomHistory(rand.New(rand.NewPCG(8, 9)), 500)
	ops[100].TS = ops[99].TS // two ops in one millisecond
	loaded := 0
	load := sliceLoader(ops, &loaded)
	ctx := context.Background()
	naive := func(at int64) int {
		rev := 0
		for _, op := range ops {
			if op.TS <= at {
				rev = op.Rev
			}
		}
		return rev
	}
	probes := []int64{ops[0].TS - 1, ops[0].TS, ops[99].TS, ops[99].TS + 1, ops[499].TS, ops[499].TS + 1e9}
	for i := 0; i < 200; i++ {
		probes = append(probes, ops[0].TS+int64(i)*(ops[499].TS-ops[0].TS)/200)
	}
	for _, at := range probes {
		loaded = 0
		got, err := RevAt(ctx, load, len(ops), at)
		if err != nil {
			t.Fatal(err)
		}
		if want := naive(at); got != want {
			t.Fatalf("RevAt(%d) = %d, want %d", at, got, want)
		}
		if loaded > 10 {
			t.Fatalf("RevAt loaded %d ops for 500", loaded)
		}
	}
	if rev, err := RevAt(ctx, load, 0, 12345); rev != 0 || err != nil {
		t.Fatalf("empty history: %d, %v", rev, err)
	}
	boom := errors.New("boom")
	if _, err := RevAt(ctx, func(context.Context, int, int) ([]dr.Op, error) { return nil, boom }, 10, 0); !errors.Is(err, boom) {
		t.Fatalf("loader error: %v", err)
	}
	if _, err := RevAt(ctx, func(context.Context, int, int) ([]dr.Op, error) { return nil, nil }, 10, 0); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("missing op: %v", err)
	}
}

// FuzzPage: for any history, window and page size, the pages concatenate
// to the whole Timeline, newest first.
func FuzzPage(f *testing.F) {
	f.Add(uint64(1), uint16(100), uint8(3), uint16(3000))
	f.Add(uint64(2), uint16(2500), uint8(40), uint16(50))
	f.Add(uint64(3), uint16(1), uint8(1), uint16(0))
	f.Fuzz(func(t *testing.T, seed uint64, n uint16, limit uint8, windowMs uint16) {
		ops := randomHistory(rand.New(rand.NewPCG(seed, 1)), int(n%4000))
		window := time.Duration(windowMs) * time.Millisecond
		all := Timeline(ops, window)
		slices.Reverse(all)
		var got []Entry
		before := 0
		loaded := 0
		for pages := 0; pages <= len(ops)+1; pages++ {
			page, next, err := Page(context.Background(), sliceLoader(ops, &loaded), len(ops), before, int(limit), window)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, page...)
			if next == 0 || limit == 0 {
				break
			}
			before = next
		}
		if limit == 0 {
			if len(got) != 0 {
				t.Fatalf("limit 0 gave %d entries", len(got))
			}
			return
		}
		if !reflect.DeepEqual(got, all) {
			t.Fatalf("pages give %d entries, Timeline %d; first difference at %d", len(got), len(all), firstDiff(got, all))
		}
	})
}

// TestTimelineEntryAt: an entry says where its first change was, in the
// text before its first op, whatever its later ops did.
func TestTimelineEntryAt(t *testing.T) {
	entries := Timeline(buildOps([]opSpec{
		{ana, "a", 0, "", insertAt(42, "one")},
		{ana, "a", 10, "", insertAt(3, "two")},
		{ben, "b", 10, "", ot.Op{{Skip: 7}, {Delete: 2}}},
		{ben, "b", 10000 * 60, "", ot.Op{{Delete: 1}}},
		{chi, "c", 10, "", ot.Op{{Insert: "x"}, {Skip: 9}, {Delete: 1}}},
	}), 0)
	var got []int
	for _, e := range entries {
		got = append(got, e.At)
	}
	if want := []int{42, 7, 0, 0}; !slices.Equal(got, want) {
		t.Fatalf("entry positions %v, want %v (entries %v)", got, want, entries)
	}
}
