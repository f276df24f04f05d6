package history

import (
	"context"
	"errors"
	"testing"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/provisions"
)

// fakeRecords is a RecordReader over fixed lists that counts its reads.
type fakeRecords struct {
	props  []dr.Proposal
	decs   []dr.Decision
	labels []dr.Label
	err    error
	reads  map[string]int
}

func (f *fakeRecords) read(what string) error {
	if f.reads == nil {
		f.reads = map[string]int{}
	}
	f.reads[what]++
	return f.err
}

func (f *fakeRecords) Proposals(context.Context, string) ([]dr.Proposal, error) {
	return f.props, f.read("proposals")
}

func (f *fakeRecords) Decisions(context.Context, string) ([]dr.Decision, error) {
	return f.decs, f.read("decisions")
}

func (f *fakeRecords) Labels(context.Context, string) ([]dr.Label, error) {
	return f.labels, f.read("labels")
}

func loaderOf(ops []dr.Op) Loader {
	return func(_ context.Context, from, to int) ([]dr.Op, error) {
		to = min(to, len(ops))
		if from > to {
			return nil, nil
		}
		return ops[from-1 : to], nil
	}
}

func TestJoin(t *testing.T) {
	status := provisions.StatusKind(provisions.Agreed)
	entries := []Entry{
		{From: 5, To: 5, Kind: status},
		{From: 4, To: 4, Kind: provisions.KindPackage},
		{From: 3, To: 3, Kind: dr.KindResolve},
		{From: 2, To: 2, Kind: dr.KindPropose},
		{From: 1, To: 1},
	}
	props := []dr.Proposal{{Group: "b1.0", Rev: 1}, {Group: "b2.0", Rev: 2}, {Group: "b2.9", Rev: 2}}
	decs := []dr.Decision{{Group: "b2.0", Rev: 3}, {Group: "pkg4", Rev: 4}, {Group: "p0.0", Rev: 5}, {Group: "x", Rev: 9}}
	labels := []dr.Label{{Name: "first", Rev: 1}, {Name: "agreed", Rev: 5}, {Name: "zero", Rev: 0}, {Name: "again", Rev: 5}}
	got := Join(entries, props, decs, labels)
	if len(got) != len(entries) {
		t.Fatalf("got %d entries, want %d", len(got), len(entries))
	}
	wantDecision := map[int]string{5: "p0.0", 4: "pkg4", 3: "b2.0"}
	for _, e := range got {
		if g, want := e.Decision, wantDecision[e.From]; (g == nil) != (want == "") || (g != nil && g.Group != want) {
			t.Errorf("entry %d: decision %+v, want group %q", e.From, g, want)
		}
		if e.Kind == dr.KindPropose {
			if e.Proposal == nil || e.Proposal.Group != "b2.0" {
				t.Errorf("entry %d: proposal %+v, want the first committed at 2 (b2.0)", e.From, e.Proposal)
			}
		} else if e.Proposal != nil {
			t.Errorf("entry %d (kind %q): proposal %+v, want none (only propose entries have one)", e.From, e.Kind, e.Proposal)
		}
	}
	names := func(ls []dr.Label) (out []string) {
		for _, l := range ls {
			out = append(out, l.Name)
		}
		return out
	}
	if g := names(got[0].Labels); len(g) != 2 || g[0] != "agreed" || g[1] != "again" {
		t.Errorf("labels of rev 5: %v, want [agreed again]", g)
	}
	if g := names(got[4].Labels); len(g) != 1 || g[0] != "first" {
		t.Errorf("labels of rev 1: %v, want [first] (rev 0 is in no entry)", g)
	}
	// A decision is a copy: changing it leaves the caller's list alone.
	got[0].Decision.Note = "changed"
	if decs[2].Note != "" {
		t.Errorf("Join's decision aliases the input")
	}
}

func TestRecordedPageReadsOnlyWhatItShows(t *testing.T) {
	ctx := context.Background()
	typing := buildOps([]opSpec{{ana, "a", 0, "", nil}, {ana, "a", 10, "", nil}})
	t.Run("typing only: labels, no proposals or decisions", func(t *testing.T) {
		rec := &fakeRecords{labels: []dr.Label{{Name: "v1", Rev: 2}}}
		page, next, err := RecordedPage(ctx, loaderOf(typing), rec, "d", len(typing), 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) != 1 || next != 0 || len(page[0].Labels) != 1 {
			t.Fatalf("page %+v next %d, want one entry labelled v1", page, next)
		}
		if rec.reads["proposals"] != 0 || rec.reads["decisions"] != 0 || rec.reads["labels"] != 1 {
			t.Errorf("reads %v, want labels only", rec.reads)
		}
	})
	withResolve := buildOps([]opSpec{{ana, "a", 0, "", nil}, {ana, "_draftroom", 10, dr.KindResolve, nil}})
	t.Run("a resolution: its decision", func(t *testing.T) {
		rec := &fakeRecords{decs: []dr.Decision{{Group: "b1.0", Rev: 2}}}
		page, _, err := RecordedPage(ctx, loaderOf(withResolve), rec, "d", len(withResolve), 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) != 2 || page[0].Decision == nil || page[0].Decision.Group != "b1.0" {
			t.Fatalf("page %+v, want the resolution first with decision b1.0", page)
		}
	})
	t.Run("store error", func(t *testing.T) {
		boom := errors.New("boom")
		rec := &fakeRecords{err: boom}
		if _, _, err := RecordedPage(ctx, loaderOf(withResolve), rec, "d", len(withResolve), 0, 10); !errors.Is(err, boom) {
			t.Fatalf("err %v, want boom wrapped", err)
		}
	})
	t.Run("empty page reads nothing", func(t *testing.T) {
		rec := &fakeRecords{}
		page, _, err := RecordedPage(ctx, loaderOf(nil), rec, "d", 0, 0, 10)
		if err != nil || len(page) != 0 || len(rec.reads) != 0 {
			t.Fatalf("page %+v err %v reads %v, want nothing", page, err, rec.reads)
		}
	})
}
