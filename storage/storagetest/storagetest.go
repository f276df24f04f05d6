// Package storagetest is the contract every draftroom store follows: Run
// drives a store through every method of dr.Store (see docs/DESIGN.md)
// and every error it promises, so that Memory, Bolt and Redis behave the
// same and the server can rely on one behaviour.
//
// A backend's test calls Run with a function that opens a fresh, empty
// store (its own temporary file, key prefix or database): subtests do not
// clean up after themselves and expect to see no drafts, tokens or audit
// entries but their own. Run closes every store it opens; Close must
// therefore be safe to call twice (the second call returns nil).
//
// Details the suite pins down beyond the one-line contracts of DESIGN.md:
//
//   - CreateDraft ignores d.Rev and d.Updated (rev 0, Updated = Created);
//     an empty id is ErrInvalid.
//   - Commit refuses a malformed commit (storage.CheckCommit) with
//     ErrInvalid, and an op whose (Principal, Client, Seq) is already
//     committed on the draft, or repeated in the commit, with ErrDuplicate;
//     the caller then acks the SeqRev of it. Any refusal writes nothing.
//   - SeqRev(..., seq, after) finds a submission committed after revision
//     after however many submissions followed it (a resend 1,000
//     submissions later): after is the revision the submission was made
//     on, so its committed copy lies in after+1..head, and a store may
//     search there instead of remembering every submission (Bolt does).
//   - Draft.Updated is the TS of the head op.
//   - PatchDraft changes only Title and Archived, whichever the patch sets,
//     and returns the draft as Draft would; later commits keep them. An
//     empty or blank title, one over dr.MaxTitleLen characters, or a patch
//     that sets nothing is ErrInvalid; an unknown draft ErrNotFound. Either
//     changes nothing.
//   - Ops with from < 1 is ErrInvalid; to < from or from past the head gives
//     no ops. Snapshot of rev < 0 is ErrNotFound. PutSnapshot past the head
//     or at rev < 0 is ErrInvalid.
//   - Proposals and Decisions come in rev order, records of one rev in the
//     order their Commit listed them. Labels come in rev order, then name;
//     PutLabel with an empty name or a rev outside 0..head is ErrInvalid.
//   - PutToken refuses a taken id or a taken hash (ErrExists), an empty id
//     (ErrInvalid). Tokens are sorted by id. RevokeToken of a revoked token
//     keeps the first time.
//   - AppendAudit ignores e.Seq and numbers entries 1, 2, ... without gaps,
//     also under concurrency; Audit with limit <= 0 returns all of them.
//   - Health is nil on a store that takes writes. Backup either writes a
//     copy holding every record (RunWithBackups, checked by restoring it)
//     or, for a backend that takes no backups (Run), writes nothing and
//     returns errors.ErrUnsupported; either way the store serves on.
//   - Stores copy what they are given and what they return; an empty slice
//     or map may come back nil.
//   - After Close every method returns ErrClosed.
package storagetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/storage"
)

// Run runs the contract suite against a backend that takes no backups of
// its own (storage.Memory, storage.Redis): its Backup must say so. open
// must return a fresh, empty store each time it is called; it may
// register its own cleanup with t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) dr.Store) {
	runSuite(t, open, nil)
}

// RunWithBackups runs the contract suite against a backend whose Backup
// writes a copy of the store (storage.Bolt), which restore opens.
func RunWithBackups(t *testing.T, open func(t *testing.T) dr.Store, restore Restore) {
	runSuite(t, open, restore)
}

func runSuite(t *testing.T, open func(t *testing.T) dr.Store, restore Restore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s dr.Store)
	}{
		{"CreateDraft", testCreateDraft},
		{"NotFound", testNotFound},
		{"Drafts", testDrafts},
		{"PatchDraft", testPatchDraft},
		{"Commit", testCommit},
		{"CommitConflict", testCommitConflict},
		{"CommitInvalid", testCommitInvalid},
		{"CommitDuplicate", testCommitDuplicate},
		{"Ops", testOps},
		{"Snapshot", testSnapshot},
		{"PutSnapshot", testPutSnapshot},
		{"SeqRev", testSeqRev},
		{"ResendLater", testResendLater},
		{"RoundTrip", testRoundTrip},
		{"ProposalsDecisions", testProposalsDecisions},
		{"Labels", testLabels},
		{"Tokens", testTokens},
		{"Audit", testAudit},
		{"Health", testHealth},
		{"Backup", func(t *testing.T, s dr.Store) { testBackup(t, s, restore) }},
		{"NoAliasing", testNoAliasing},
		{"ConcurrentSameBase", testConcurrentSameBase},
		{"ConcurrentRetry", testConcurrentRetry},
		{"ConcurrentDrafts", testConcurrentDrafts},
		{"Model", testModel},
		{"Close", testClose},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

// Fixtures. Texts mix scripts, astral code points and combining marks so
// that a backend which counts or slices bytes instead of storing them
// exactly is caught.
const (
	created    = int64(1_795_000_000_000)
	multilingo = "Article 17 — «Les Parties» 各締約国は 🇨🇦 ﷽ حقوق الإنسان e\u0301 😭\u2028ok"
)

var (
	ana  = dr.Author{Delegation: "CAN", Name: "Ana"}
	jun  = dr.Author{Delegation: "JPN", Name: "田中 純"}
	laya = dr.Author{Delegation: "EGY", Name: "ليلى"}
)

func newDraft(id string) dr.Draft {
	return dr.Draft{ID: id, Title: "Draft " + id, Created: created, By: ana}
}

// edit builds the op record a client's submission becomes at rev.
func edit(rev int, client string, seq uint64, op ot.Op) dr.Op {
	return dr.Op{
		Rev:       rev,
		Op:        op,
		Client:    client,
		Seq:       seq,
		Principal: "tok:" + client,
		By:        ana,
		TS:        created + int64(rev)*1000,
	}
}

// ins is an op inserting s at pos.
func ins(pos int, s string) ot.Op {
	if pos == 0 {
		return ot.Op{{Insert: s}}
	}
	return ot.Op{{Skip: pos}, {Insert: s}}
}

// delText is the invertible {"d":"s"} delete component.
func delText(s string) ot.Component {
	return ot.Component{Delete: utf8.RuneCountInString(s), Deleted: s}
}

// run builds ops base+1..base+n from one client, seq = rev.
func run(base, n int, client string) []dr.Op {
	ops := make([]dr.Op, n)
	for i := range ops {
		rev := base + 1 + i
		ops[i] = edit(rev, client, uint64(rev), ins(0, fmt.Sprintf("%d·", rev)))
	}
	return ops
}

func mustCreate(t *testing.T, s dr.Store, id, text string) dr.Draft {
	t.Helper()
	d := newDraft(id)
	if err := s.CreateDraft(context.Background(), d, text); err != nil {
		t.Fatalf("CreateDraft(%q): %v", id, err)
	}
	return d
}

func mustCommit(t *testing.T, s dr.Store, id string, base int, c dr.Commit) {
	t.Helper()
	if err := s.Commit(context.Background(), id, base, c); err != nil {
		t.Fatalf("Commit(%s@%d, %d ops): %v", id, base, len(c.Ops), err)
	}
}

func mustOps(t *testing.T, s dr.Store, id string, from, to int) []dr.Op {
	t.Helper()
	ops, err := s.Ops(context.Background(), id, from, to)
	if err != nil {
		t.Fatalf("Ops(%s, %d, %d): %v", id, from, to, err)
	}
	return ops
}

func mustDraft(t *testing.T, s dr.Store, id string) dr.Draft {
	t.Helper()
	d, err := s.Draft(context.Background(), id)
	if err != nil {
		t.Fatalf("Draft(%s): %v", id, err)
	}
	return d
}

func mustSnapshot(t *testing.T, s dr.Store, id string, rev int) dr.Snapshot {
	t.Helper()
	snap, err := s.Snapshot(context.Background(), id, rev)
	if err != nil {
		t.Fatalf("Snapshot(%s, %d): %v", id, rev, err)
	}
	return snap
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: got error %v, want %v", what, err, want)
	}
}

// same compares records exactly, except that an empty slice or map equals a
// nil one: JSON-encoding backends cannot tell them apart, and no caller
// does either.
func same(a, b any) bool {
	return reflect.DeepEqual(normalize(reflect.ValueOf(a)).Interface(), normalize(reflect.ValueOf(b)).Interface())
}

// normalize returns a copy of v in which every empty slice or map is nil.
func normalize(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Slice:
		if v.Len() == 0 {
			return reflect.Zero(v.Type())
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := 0; i < v.Len(); i++ {
			out.Index(i).Set(normalize(v.Index(i)))
		}
		return out
	case reflect.Map:
		if v.Len() == 0 {
			return reflect.Zero(v.Type())
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		iter := v.MapRange()
		for iter.Next() {
			out.SetMapIndex(iter.Key(), normalize(iter.Value()))
		}
		return out
	case reflect.Struct:
		out := reflect.New(v.Type()).Elem()
		for i := 0; i < v.NumField(); i++ {
			if out.Field(i).CanSet() {
				out.Field(i).Set(normalize(v.Field(i)))
			}
		}
		return out
	default:
		return v
	}
}

// state is everything a Commit can change on one draft.
type state struct {
	Draft     dr.Draft
	Ops       []dr.Op
	Snapshot  dr.Snapshot
	Proposals []dr.Proposal
	Decisions []dr.Decision
	SeqRevs   map[string]int
}

// capture reads a draft's state, plus the dedupe entries of the given ops
// (whether or not they were committed).
func capture(t *testing.T, s dr.Store, id string, probe ...dr.Op) state {
	t.Helper()
	ctx := context.Background()
	st := state{Draft: mustDraft(t, s, id), SeqRevs: map[string]int{}}
	st.Ops = mustOps(t, s, id, 1, 1<<30)
	st.Snapshot = mustSnapshot(t, s, id, 1<<30)
	var err error
	if st.Proposals, err = s.Proposals(ctx, id); err != nil {
		t.Fatalf("Proposals(%s): %v", id, err)
	}
	if st.Decisions, err = s.Decisions(ctx, id); err != nil {
		t.Fatalf("Decisions(%s): %v", id, err)
	}
	for _, op := range probe {
		rev, err := s.SeqRev(ctx, id, op.Principal, op.Client, op.Seq, 0)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			rev = -1
		case err != nil:
			t.Fatalf("SeqRev(%s, %s, %s, %d): %v", id, op.Principal, op.Client, op.Seq, err)
		}
		st.SeqRevs[fmt.Sprintf("%s/%s/%d", op.Principal, op.Client, op.Seq)] = rev
	}
	return st
}

func assertUnchanged(t *testing.T, what string, before, after state) {
	t.Helper()
	if !same(before, after) {
		t.Errorf("%s changed the draft:\nbefore %+v\nafter  %+v", what, before, after)
	}
}

func testCreateDraft(t *testing.T, s dr.Store) {
	ctx := context.Background()
	d := newDraft("art-17")
	d.Title = "Article 17 — 気候"
	d.Rev, d.Updated = 9, 42 // a store ignores both: a new draft is at rev 0
	if err := s.CreateDraft(ctx, d, multilingo); err != nil {
		t.Fatalf("CreateDraft: %v", err)
	}
	got := mustDraft(t, s, "art-17")
	want := d
	want.Rev, want.Updated = 0, d.Created
	if got != want {
		t.Errorf("Draft: got %+v, want %+v", got, want)
	}
	snap := mustSnapshot(t, s, "art-17", 0)
	if snap.Rev != 0 || snap.Text != multilingo || len(snap.Meta) != 0 {
		t.Errorf("Snapshot(0): got %+v, want rev 0 with the initial text", snap)
	}
	if ops := mustOps(t, s, "art-17", 1, 100); len(ops) != 0 {
		t.Errorf("Ops of a new draft: got %d ops, want none", len(ops))
	}

	again := newDraft("art-17")
	again.Title = "impostor"
	wantErr(t, "CreateDraft of an existing id", s.CreateDraft(ctx, again, "other"), storage.ErrExists)
	if got := mustDraft(t, s, "art-17"); got.Title != d.Title {
		t.Errorf("after a refused CreateDraft the title is %q, want %q", got.Title, d.Title)
	}
	if snap := mustSnapshot(t, s, "art-17", 0); snap.Text != multilingo {
		t.Errorf("after a refused CreateDraft snapshot 0 is %q", snap.Text)
	}

	wantErr(t, "CreateDraft with an empty id", s.CreateDraft(ctx, newDraft(""), "x"), storage.ErrInvalid)

	// An empty initial text is a draft like any other.
	mustCreate(t, s, "empty", "")
	if snap := mustSnapshot(t, s, "empty", 0); snap.Text != "" || snap.Rev != 0 {
		t.Errorf("Snapshot(0) of an empty draft: got %+v", snap)
	}
}

func testNotFound(t *testing.T, s dr.Store) {
	ctx := context.Background()
	mustCreate(t, s, "known", "x")
	const id = "unknown"
	nf := storage.ErrNotFound
	_, err := s.Draft(ctx, id)
	wantErr(t, "Draft", err, nf)
	wantErr(t, "Commit", s.Commit(ctx, id, 0, dr.Commit{Ops: run(0, 1, "c")}), nf)
	_, err = s.Ops(ctx, id, 1, 10)
	wantErr(t, "Ops", err, nf)
	_, err = s.Snapshot(ctx, id, 0)
	wantErr(t, "Snapshot", err, nf)
	wantErr(t, "PutSnapshot", s.PutSnapshot(ctx, id, dr.Snapshot{Rev: 0, Text: "x"}), nf)
	_, err = s.SeqRev(ctx, id, "tok:c", "c", 1, 0)
	wantErr(t, "SeqRev", err, nf)
	_, err = s.Proposals(ctx, id)
	wantErr(t, "Proposals", err, nf)
	_, err = s.Decisions(ctx, id)
	wantErr(t, "Decisions", err, nf)
	wantErr(t, "PutLabel", s.PutLabel(ctx, dr.Label{Draft: id, Name: "v1", Rev: 0, By: ana, TS: created}), nf)
	_, err = s.Labels(ctx, id)
	wantErr(t, "Labels", err, nf)
	_, err = s.Token(ctx, "t-unknown")
	wantErr(t, "Token", err, nf)
	_, err = s.TokenByHash(ctx, "00ff")
	wantErr(t, "TokenByHash", err, nf)
	wantErr(t, "RevokeToken", s.RevokeToken(ctx, "t-unknown", created), nf)

	// None of the failed calls may have created the draft as a side effect.
	drafts, err := s.Drafts(ctx)
	if err != nil {
		t.Fatalf("Drafts: %v", err)
	}
	if len(drafts) != 1 || drafts[0].ID != "known" {
		t.Errorf("Drafts after calls on an unknown draft: got %+v, want only \"known\"", drafts)
	}
}

func testDrafts(t *testing.T, s dr.Store) {
	ctx := context.Background()
	drafts, err := s.Drafts(ctx)
	if err != nil || len(drafts) != 0 {
		t.Fatalf("Drafts of an empty store: got %v, %v; want none", drafts, err)
	}
	ids := []string{"b", "a", "a.1", "Z", "a-2", "_x", "art-17", "art-1", "0", "a_"}
	for _, id := range ids {
		mustCreate(t, s, id, "text of "+id)
	}
	mustCommit(t, s, "art-17", 0, dr.Commit{Ops: run(0, 3, "c")})
	drafts, err = s.Drafts(ctx)
	if err != nil {
		t.Fatalf("Drafts: %v", err)
	}
	want := slices.Clone(ids)
	sort.Strings(want)
	var got []string
	for _, d := range drafts {
		got = append(got, d.ID)
		wantRev := 0
		if d.ID == "art-17" {
			wantRev = 3
		}
		if d.Rev != wantRev || d.Title != "Draft "+d.ID || d.By != ana {
			t.Errorf("Drafts entry %+v: want title %q, rev %d", d, "Draft "+d.ID, wantRev)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("Drafts order: got %q, want %q", got, want)
	}
}

func testCommit(t *testing.T, s dr.Store) {
	ctx := context.Background()
	mustCreate(t, s, "d", "hello")
	first := run(0, 3, "c1")
	mustCommit(t, s, "d", 0, dr.Commit{Ops: first})
	d := mustDraft(t, s, "d")
	if d.Rev != 3 || d.Updated != first[2].TS || d.Created != created {
		t.Errorf("after ops 1..3: got %+v, want rev 3, updated %d", d, first[2].TS)
	}
	next := edit(4, "c2", 1, ot.Op{{Skip: 2}, {Delete: 1}})
	next.TS = created + 777_777 // Updated follows the commit's last op, whatever its ts
	mustCommit(t, s, "d", 3, dr.Commit{Ops: []dr.Op{next}})
	d = mustDraft(t, s, "d")
	if d.Rev != 4 || d.Updated != next.TS {
		t.Errorf("after op 4: got rev %d updated %d, want 4 and %d", d.Rev, d.Updated, next.TS)
	}
	got := mustOps(t, s, "d", 1, 4)
	want := append(slices.Clone(first), next)
	if !same(got, want) {
		t.Errorf("Ops(1, 4):\ngot  %+v\nwant %+v", got, want)
	}
	// The base is the head, not a count of commits: a commit of several
	// ops moves it by that many.
	wantErr(t, "Commit at the old head", s.Commit(ctx, "d", 3, dr.Commit{Ops: run(3, 1, "c3")}), storage.ErrRevConflict)
	mustCommit(t, s, "d", 4, dr.Commit{Ops: run(4, 2, "c3")})
	if d := mustDraft(t, s, "d"); d.Rev != 6 {
		t.Errorf("rev after three commits: got %d, want 6", d.Rev)
	}
}

func testCommitConflict(t *testing.T, s dr.Store) {
	ctx := context.Background()
	mustCreate(t, s, "d", "hello")
	mustCommit(t, s, "d", 0, dr.Commit{Ops: run(0, 4, "c1")})
	for _, base := range []int{0, 2, 3, 5, 100} {
		c := dr.Commit{
			Ops:       run(base, 2, "c2"),
			Snapshots: []dr.Snapshot{{Rev: base + 2, Text: "stale"}},
			Proposals: []dr.Proposal{{Draft: "d", Group: "b1.0", Text: "x", By: ana, Rev: base + 1, TS: created}},
			Decisions: []dr.Decision{{Draft: "d", Group: "b1.0", Alternatives: []string{"x"}, Choice: dr.ChoiceDrop, By: ana, Rev: base + 2, TS: created}},
		}
		before := capture(t, s, "d", c.Ops...)
		err := s.Commit(ctx, "d", base, c)
		wantErr(t, fmt.Sprintf("Commit at base %d with head 4", base), err, storage.ErrRevConflict)
		assertUnchanged(t, fmt.Sprintf("a conflicting Commit at base %d", base), before, capture(t, s, "d", c.Ops...))
	}
}

func testCommitInvalid(t *testing.T, s dr.Store) {
	ctx := context.Background()
	mustCreate(t, s, "d", "hello")
	mustCommit(t, s, "d", 0, dr.Commit{Ops: run(0, 2, "c1")})
	good := func() dr.Commit { return dr.Commit{Ops: run(2, 2, "c2")} }
	cases := []struct {
		name   string
		mutate func(c *dr.Commit)
	}{
		{"no ops", func(c *dr.Commit) { c.Ops = nil }},
		{"first rev not base+1", func(c *dr.Commit) { c.Ops[0].Rev, c.Ops[1].Rev = 4, 5 }},
		{"gap in revs", func(c *dr.Commit) { c.Ops[1].Rev = 5 }},
		{"revs out of order", func(c *dr.Commit) { c.Ops[0].Rev, c.Ops[1].Rev = 4, 3 }},
		{"snapshot at base", func(c *dr.Commit) { c.Snapshots = []dr.Snapshot{{Rev: 2, Text: "x"}} }},
		{"snapshot past the run", func(c *dr.Commit) { c.Snapshots = []dr.Snapshot{{Rev: 5, Text: "x"}} }},
		{"proposal past the run", func(c *dr.Commit) {
			c.Proposals = []dr.Proposal{{Draft: "d", Group: "b3.0", Text: "x", Rev: 5}}
		}},
		{"proposal of another draft", func(c *dr.Commit) {
			c.Proposals = []dr.Proposal{{Draft: "other", Group: "b3.0", Text: "x", Rev: 3}}
		}},
		{"decision before the run", func(c *dr.Commit) {
			c.Decisions = []dr.Decision{{Draft: "d", Group: "b1.0", Choice: dr.ChoiceDrop, Rev: 2}}
		}},
		{"decision of another draft", func(c *dr.Commit) {
			c.Decisions = []dr.Decision{{Draft: "e", Group: "b1.0", Choice: dr.ChoiceDrop, Rev: 4}}
		}},
	}
	for _, tc := range cases {
		c := good()
		tc.mutate(&c)
		before := capture(t, s, "d", good().Ops...)
		wantErr(t, tc.name, s.Commit(ctx, "d", 2, c), storage.ErrInvalid)
		assertUnchanged(t, "an invalid Commit ("+tc.name+")", before, capture(t, s, "d", good().Ops...))
	}
	wantErr(t, "Commit with an empty id", s.Commit(ctx, "", 0, good()), storage.ErrInvalid)
	// The same commit, well formed, still goes through.
	mustCommit(t, s, "d", 2, good())
}

func testCommitDuplicate(t *testing.T, s dr.Store) {
	ctx := context.Background()
	mustCreate(t, s, "d", "hello")
	mustCommit(t, s, "d", 0, dr.Commit{Ops: run(0, 2, "c1")}) // c1 seqs 1, 2

	// Atomicity: a fresh op followed by a resubmission of c1 seq 2 writes
	// neither op, nor the snapshot, proposal and decision that came with them.
	fresh := edit(3, "c2", 1, ins(0, "neu"))
	dup := edit(4, "c1", 2, ins(0, "again"))
	c := dr.Commit{
		Ops:       []dr.Op{fresh, dup},
		Snapshots: []dr.Snapshot{{Rev: 4, Text: "never"}},
		Proposals: []dr.Proposal{{Draft: "d", Group: "b3.0", Text: "never", By: ana, Rev: 3, TS: created}},
		Decisions: []dr.Decision{{Draft: "d", Group: "b3.0", Alternatives: []string{"never"}, Choice: dr.ChoiceChoose, Result: "never", By: ana, Rev: 4, TS: created}},
	}
	before := capture(t, s, "d", fresh, dup)
	wantErr(t, "Commit resubmitting c1 seq 2", s.Commit(ctx, "d", 2, c), storage.ErrDuplicate)
	after := capture(t, s, "d", fresh, dup)
	assertUnchanged(t, "a Commit with a duplicate submission", before, after)
	if rev := after.SeqRevs["tok:c2/c2/1"]; rev != -1 {
		t.Errorf("the fresh op of a refused Commit is recorded at rev %d", rev)
	}

	// The same (principal, client, seq) twice in one Commit.
	twice := dr.Commit{Ops: []dr.Op{edit(3, "c3", 7, ins(0, "a")), edit(4, "c3", 7, ins(0, "b"))}}
	wantErr(t, "Commit with one submission twice", s.Commit(ctx, "d", 2, twice), storage.ErrDuplicate)
	assertUnchanged(t, "a Commit with one submission twice", before, capture(t, s, "d", fresh, dup))

	// Dedupe is scoped by principal: the same client id and seq under
	// another credential is another submission.
	other := edit(3, "c1", 2, ins(0, "other principal"))
	other.Principal = "open:FRA/Zoé"
	mustCommit(t, s, "d", 2, dr.Commit{Ops: []dr.Op{other}})
	// And by draft: the same submission on another draft is fine.
	mustCreate(t, s, "e", "")
	mustCommit(t, s, "e", 0, dr.Commit{Ops: run(0, 2, "c1")})
}

func testOps(t *testing.T, s dr.Store) {
	ctx := context.Background()
	mustCreate(t, s, "d", "")
	all := run(0, 10, "c")
	mustCommit(t, s, "d", 0, dr.Commit{Ops: all[:4]})
	mustCommit(t, s, "d", 4, dr.Commit{Ops: all[4:5]})
	mustCommit(t, s, "d", 5, dr.Commit{Ops: all[5:]})
	cases := []struct {
		from, to   int
		wantFirst  int // rev of the first op, 0 for none
		wantLength int
	}{
		{1, 10, 1, 10},
		{3, 5, 3, 3},
		{5, 5, 5, 1},
		{10, 10, 10, 1},
		{8, 100, 8, 3}, // clipped to the head
		{1, 1 << 30, 1, 10},
		{11, 20, 0, 0}, // past the head: nothing
		{6, 3, 0, 0},   // empty range
	}
	for _, tc := range cases {
		got := mustOps(t, s, "d", tc.from, tc.to)
		if len(got) != tc.wantLength {
			t.Errorf("Ops(%d, %d): got %d ops, want %d", tc.from, tc.to, len(got), tc.wantLength)
			continue
		}
		for i, op := range got {
			if !same(op, all[tc.wantFirst-1+i]) {
				t.Errorf("Ops(%d, %d)[%d]: got %+v, want %+v", tc.from, tc.to, i, op, all[tc.wantFirst-1+i])
			}
		}
	}
	for _, from := range []int{0, -1} {
		_, err := s.Ops(ctx, "d", from, 5)
		wantErr(t, fmt.Sprintf("Ops from %d", from), err, storage.ErrInvalid)
	}
}

func testSnapshot(t *testing.T, s dr.Store) {
	ctx := context.Background()
	mustCreate(t, s, "d", "v0")
	meta := map[string]json.RawMessage{
		"authors":  json.RawMessage(`[{"d":"CAN","n":2},{"d":"JPN","n":1}]`),
		"brackets": json.RawMessage(`{"b0.1":[0,4],"名":"値"}`),
	}
	mustCommit(t, s, "d", 0, dr.Commit{Ops: run(0, 4, "c"), Snapshots: []dr.Snapshot{{Rev: 4, Text: "v4 — 四", Meta: meta}}})
	mustCommit(t, s, "d", 4, dr.Commit{Ops: run(4, 5, "c"), Snapshots: []dr.Snapshot{{Rev: 6, Text: "v6"}, {Rev: 8, Text: "v8"}}})
	want := map[int]dr.Snapshot{
		0: {Rev: 0, Text: "v0"},
		4: {Rev: 4, Text: "v4 — 四", Meta: meta},
		6: {Rev: 6, Text: "v6"},
		8: {Rev: 8, Text: "v8"},
	}
	for rev, at := range map[int]int{0: 0, 1: 0, 3: 0, 4: 4, 5: 4, 6: 6, 7: 6, 8: 8, 9: 8, 1000: 8} {
		got := mustSnapshot(t, s, "d", rev)
		if !same(got, want[at]) {
			t.Errorf("Snapshot(%d): got %+v, want %+v", rev, got, want[at])
		}
	}
	_, err := s.Snapshot(ctx, "d", -1)
	wantErr(t, "Snapshot(-1)", err, storage.ErrNotFound)
}

func testPutSnapshot(t *testing.T, s dr.Store) {
	ctx := context.Background()
	mustCreate(t, s, "d", "v0")
	mustCommit(t, s, "d", 0, dr.Commit{Ops: run(0, 5, "c")})
	meta := map[string]json.RawMessage{"authors": json.RawMessage(`{"CAN":[0,3]}`)}
	if err := s.PutSnapshot(ctx, "d", dr.Snapshot{Rev: 3, Text: "v3", Meta: meta}); err != nil {
		t.Fatalf("PutSnapshot(3): %v", err)
	}
	if got := mustSnapshot(t, s, "d", 4); !same(got, dr.Snapshot{Rev: 3, Text: "v3", Meta: meta}) {
		t.Errorf("Snapshot(4) after PutSnapshot(3): got %+v", got)
	}
	if got := mustSnapshot(t, s, "d", 2); got.Rev != 0 || got.Text != "v0" {
		t.Errorf("Snapshot(2) after PutSnapshot(3): got %+v, want snapshot 0", got)
	}
	// Same rev again overwrites (the owner may add Meta later).
	if err := s.PutSnapshot(ctx, "d", dr.Snapshot{Rev: 3, Text: "v3"}); err != nil {
		t.Fatalf("PutSnapshot(3) again: %v", err)
	}
	if got := mustSnapshot(t, s, "d", 3); !same(got, dr.Snapshot{Rev: 3, Text: "v3"}) {
		t.Errorf("Snapshot(3) after overwriting: got %+v", got)
	}
	// The head itself is fine; past it is not.
	if err := s.PutSnapshot(ctx, "d", dr.Snapshot{Rev: 5, Text: "v5"}); err != nil {
		t.Fatalf("PutSnapshot(head): %v", err)
	}
	wantErr(t, "PutSnapshot past the head", s.PutSnapshot(ctx, "d", dr.Snapshot{Rev: 6, Text: "v6"}), storage.ErrInvalid)
	wantErr(t, "PutSnapshot at -1", s.PutSnapshot(ctx, "d", dr.Snapshot{Rev: -1, Text: "x"}), storage.ErrInvalid)
	if got := mustSnapshot(t, s, "d", 100); got.Rev != 5 || got.Text != "v5" {
		t.Errorf("Snapshot(100): got %+v, want the one at the head", got)
	}
	if d := mustDraft(t, s, "d"); d.Rev != 5 {
		t.Errorf("PutSnapshot moved the head to %d", d.Rev)
	}
}

func testSeqRev(t *testing.T, s dr.Store) {
	ctx := context.Background()
	mustCreate(t, s, "d", "")
	big := uint64(1<<63 + 5) // seqs are uint64 all the way up
	ops := []dr.Op{
		edit(1, "c1", 1, ins(0, "a")),
		edit(2, "c2", 1, ins(0, "b")),
		edit(3, "c1", 2, ins(0, "c")),
		edit(4, "c1", big, ins(0, "d")),
		{Rev: 5, Op: ins(0, "e"), Client: "_draftroom", Seq: 5, Principal: "system", By: jun, TS: created, Kind: dr.KindImport},
	}
	mustCommit(t, s, "d", 0, dr.Commit{Ops: ops[:2]})
	mustCommit(t, s, "d", 2, dr.Commit{Ops: ops[2:]})
	for _, op := range ops {
		rev, err := s.SeqRev(ctx, "d", op.Principal, op.Client, op.Seq, 0)
		if err != nil || rev != op.Rev {
			t.Errorf("SeqRev(%s, %s, %d): got %d, %v; want %d", op.Principal, op.Client, op.Seq, rev, err, op.Rev)
		}
	}
	misses := []struct {
		principal, client string
		seq               uint64
	}{
		{"tok:c1", "c1", 3},
		{"tok:c1", "c2", 2},
		{"tok:c2", "c1", 1}, // c1's seq 1, under another principal
		{"tok:c1", "c", 1},  // a prefix of a client id
		{"tok:c", "1c1", 1}, // keys must not run principal and client together
		{"", "", 0},
	}
	for _, m := range misses {
		_, err := s.SeqRev(ctx, "d", m.principal, m.client, m.seq, 0)
		wantErr(t, fmt.Sprintf("SeqRev(%q, %q, %d)", m.principal, m.client, m.seq), err, storage.ErrNotFound)
	}
}

// testResendLater: a submission is recognised however long ago it was
// committed: after 1,000 more submissions of the same client and of
// others, SeqRev with the revision it was made on finds it, and a lookup
// of a seq never committed still misses.
func testResendLater(t *testing.T, s dr.Store) {
	ctx := context.Background()
	mustCreate(t, s, "d", "")
	// c's seq 1 was made on rev 0 and committed as rev 3 (two others
	// came first).
	first := []dr.Op{
		edit(1, "other", 1, ins(0, "a")),
		edit(2, "other", 2, ins(0, "b")),
		edit(3, "c", 1, ins(0, "c")),
	}
	mustCommit(t, s, "d", 0, dr.Commit{Ops: first})
	const later = 1000
	base := len(first)
	for done := 0; done < later; {
		var c dr.Commit
		for ; len(c.Ops) < 100 && done < later; done++ {
			rev := base + len(c.Ops) + 1
			client, seq := "c", uint64(2+done/2)
			if done%2 == 1 {
				client, seq = "other", uint64(3+done/2)
			}
			c.Ops = append(c.Ops, edit(rev, client, seq, ins(0, "x")))
		}
		mustCommit(t, s, "d", base, c)
		base += len(c.Ops)
	}
	if d := mustDraft(t, s, "d"); d.Rev != len(first)+later {
		t.Fatalf("head %d, want %d", d.Rev, len(first)+later)
	}
	for _, after := range []int{0, 1, 2} {
		rev, err := s.SeqRev(ctx, "d", "tok:c", "c", 1, after)
		if err != nil || rev != 3 {
			t.Errorf("SeqRev of c's seq 1 made on rev %d, %d submissions later: got %d, %v; want 3", after, later, rev, err)
		}
	}
	if rev, err := s.SeqRev(ctx, "d", "tok:other", "other", 1, 0); err != nil || rev != 1 {
		t.Errorf("SeqRev of other's seq 1: got %d, %v; want 1", rev, err)
	}
	_, err := s.SeqRev(ctx, "d", "tok:c", "c", later+5, 0)
	wantErr(t, "SeqRev of a seq never committed", err, storage.ErrNotFound)
	_, err = s.SeqRev(ctx, "d", "tok:other", "c", 1, 0)
	wantErr(t, "SeqRev of c's seq 1 under another principal", err, storage.ErrNotFound)
}

func testRoundTrip(t *testing.T, s dr.Store) {
	ctx := context.Background()
	d := dr.Draft{ID: "art-17.b_2", Title: "第17条 — الحقوق «draft» 😭", Created: created, By: laya}
	initial := "abc😭😭 def"
	if err := s.CreateDraft(ctx, d, initial); err != nil {
		t.Fatalf("CreateDraft: %v", err)
	}
	ops := []dr.Op{
		{Rev: 1, Op: ot.Op{{Insert: multilingo}}, Client: "c-7f3a", Seq: 12, Principal: "tok:t1", By: ana, TS: created + 1},
		{Rev: 2, Op: ot.Op{{Skip: 3}, delText("😭😭"), {Insert: "各締約国"}}, Client: "c-7f3a", Seq: 13, Principal: "tok:t1", By: ana, TS: created + 2},
		{Rev: 3, Op: ot.Op{{Skip: 1}, {Delete: 2}, {Skip: 4}, delText("e\u0301"), {Insert: "[x/y]"}}, Client: "web_9", Seq: 1, Principal: "open:JPN/田中 純", By: jun, TS: created + 3},
		{Rev: 4, Op: ot.Op{{Skip: 7}, {Insert: "[shall/should]"}}, Client: "_draftroom", Seq: 4, Principal: "system", By: laya, TS: created + 4, Kind: dr.KindPropose, Group: "b3.0"},
		{Rev: 5, Op: ot.Op{{Skip: 7}, delText("[shall/should]"), {Insert: "shall"}}, Client: "_draftroom", Seq: 5, Principal: "system", By: laya, TS: created + 5, Kind: dr.KindResolve, Group: "b3.0"},
		{Rev: 6, Op: ot.Op{delText(multilingo + "\x00\t\n")}, Client: "_draftroom", Seq: 6, Principal: "system", By: ana, TS: created + 6, Kind: dr.KindImport},
	}
	snap := dr.Snapshot{Rev: 5, Text: multilingo + "\x00\t\n", Meta: map[string]json.RawMessage{"authors": json.RawMessage(`{"CAN":"😭"}`)}}
	prop := dr.Proposal{Draft: d.ID, Group: "b3.0", Alternative: 1, Text: "should — devrait — すべき", By: jun, Rev: 4, TS: created + 4}
	dec := dr.Decision{Draft: d.ID, Group: "b3.0", Alternatives: []string{"shall", "should — すべき"}, Choice: dr.ChoiceChoose, Index: 0, Result: "shall", Note: "per الرئيس", By: laya, Rev: 5, TS: created + 5}
	mustCommit(t, s, d.ID, 0, dr.Commit{Ops: ops[:3]})
	mustCommit(t, s, d.ID, 3, dr.Commit{Ops: ops[3:], Snapshots: []dr.Snapshot{snap}, Proposals: []dr.Proposal{prop}, Decisions: []dr.Decision{dec}})

	if got := mustOps(t, s, d.ID, 1, 6); !same(got, ops) {
		t.Errorf("ops round trip:\ngot  %+v\nwant %+v", got, ops)
	}
	if got := mustSnapshot(t, s, d.ID, 5); !same(got, snap) {
		t.Errorf("snapshot round trip: got %+v, want %+v", got, snap)
	}
	if got := mustSnapshot(t, s, d.ID, 2); got.Text != initial {
		t.Errorf("snapshot 0 round trip: got %q, want %q", got.Text, initial)
	}
	props, err := s.Proposals(ctx, d.ID)
	if err != nil || !same(props, []dr.Proposal{prop}) {
		t.Errorf("Proposals round trip: got %+v, %v; want %+v", props, err, prop)
	}
	decs, err := s.Decisions(ctx, d.ID)
	if err != nil || !same(decs, []dr.Decision{dec}) {
		t.Errorf("Decisions round trip: got %+v, %v; want %+v", decs, err, dec)
	}
	want := d
	want.Rev, want.Updated = 6, ops[5].TS
	if got := mustDraft(t, s, d.ID); got != want {
		t.Errorf("Draft round trip: got %+v, want %+v", got, want)
	}
}

func testProposalsDecisions(t *testing.T, s dr.Store) {
	ctx := context.Background()
	mustCreate(t, s, "d", "")
	mustCreate(t, s, "other", "")
	if props, err := s.Proposals(ctx, "d"); err != nil || len(props) != 0 {
		t.Errorf("Proposals of a new draft: got %v, %v", props, err)
	}
	if decs, err := s.Decisions(ctx, "d"); err != nil || len(decs) != 0 {
		t.Errorf("Decisions of a new draft: got %v, %v", decs, err)
	}
	prop := func(rev, alt int, text string) dr.Proposal {
		return dr.Proposal{Draft: "d", Group: fmt.Sprintf("b%d.0", rev), Alternative: alt, Text: text, By: jun, Rev: rev, TS: created + int64(rev)}
	}
	dec := func(rev int, result string) dr.Decision {
		return dr.Decision{Draft: "d", Group: "b1.0", Alternatives: []string{"a", "b"}, Choice: dr.ChoiceCompromise, Result: result, By: ana, Rev: rev, TS: created + int64(rev)}
	}
	var wantProps []dr.Proposal
	var wantDecs []dr.Decision
	base := 0
	for round := range 4 {
		c := dr.Commit{Ops: run(base, 3, "c")}
		// Within one commit, records keep the order they were given in, and
		// ops' records come out in rev order even when listed backwards.
		c.Proposals = []dr.Proposal{prop(base+3, 0, fmt.Sprintf("r%d late", round)), prop(base+1, 1, fmt.Sprintf("r%d first", round)), prop(base+1, 2, fmt.Sprintf("r%d second", round))}
		c.Decisions = []dr.Decision{dec(base+2, fmt.Sprintf("r%d", round))}
		mustCommit(t, s, "d", base, c)
		wantProps = append(wantProps, c.Proposals[1], c.Proposals[2], c.Proposals[0])
		wantDecs = append(wantDecs, c.Decisions...)
		// Another draft's records never show up here.
		mustCommit(t, s, "other", base, dr.Commit{Ops: run(base, 3, "c"), Proposals: []dr.Proposal{{Draft: "other", Group: "b1.0", Text: "elsewhere", Rev: base + 1}}})
		base += 3
	}
	props, err := s.Proposals(ctx, "d")
	if err != nil || !same(props, wantProps) {
		t.Errorf("Proposals:\ngot  %+v (%v)\nwant %+v", props, err, wantProps)
	}
	decs, err := s.Decisions(ctx, "d")
	if err != nil || !same(decs, wantDecs) {
		t.Errorf("Decisions:\ngot  %+v (%v)\nwant %+v", decs, err, wantDecs)
	}
}

func testLabels(t *testing.T, s dr.Store) {
	ctx := context.Background()
	mustCreate(t, s, "d", "")
	mustCreate(t, s, "e", "")
	mustCommit(t, s, "d", 0, dr.Commit{Ops: run(0, 6, "c")})
	if ls, err := s.Labels(ctx, "d"); err != nil || len(ls) != 0 {
		t.Errorf("Labels of an unlabelled draft: got %v, %v", ls, err)
	}
	label := func(name string, rev int) dr.Label {
		return dr.Label{Draft: "d", Name: name, Rev: rev, By: ana, TS: created + int64(rev)}
	}
	put := []dr.Label{label("Chair's text, session 4", 5), label("初稿", 0), label("zeta", 2), label("alpha", 2), label("head", 6)}
	for _, l := range put {
		if err := s.PutLabel(ctx, l); err != nil {
			t.Fatalf("PutLabel(%+v): %v", l, err)
		}
	}
	wantErr(t, "PutLabel of a taken name", s.PutLabel(ctx, label("zeta", 4)), storage.ErrExists)
	wantErr(t, "PutLabel past the head", s.PutLabel(ctx, label("future", 7)), storage.ErrInvalid)
	wantErr(t, "PutLabel at -1", s.PutLabel(ctx, label("past", -1)), storage.ErrInvalid)
	wantErr(t, "PutLabel with an empty name", s.PutLabel(ctx, label("", 1)), storage.ErrInvalid)
	// A name is per draft.
	if err := s.PutLabel(ctx, dr.Label{Draft: "e", Name: "zeta", Rev: 0, By: jun, TS: created}); err != nil {
		t.Errorf("PutLabel of a name another draft uses: %v", err)
	}
	got, err := s.Labels(ctx, "d")
	if err != nil {
		t.Fatalf("Labels: %v", err)
	}
	// Rev order; labels on one revision by name.
	want := []dr.Label{put[1], put[3], put[2], put[0], put[4]}
	if !same(got, want) {
		t.Errorf("Labels:\ngot  %+v\nwant %+v", got, want)
	}
}

func testTokens(t *testing.T, s dr.Store) {
	ctx := context.Background()
	if ts, err := s.Tokens(ctx); err != nil || len(ts) != 0 {
		t.Fatalf("Tokens of an empty store: got %v, %v", ts, err)
	}
	tok := func(id, hash, role string) dr.Token {
		return dr.Token{ID: id, Hash: hash, Delegation: "JPN", Name: "田中 純", Role: role, Created: created, IssuedBy: "tok:root"}
	}
	t1 := tok("t1", "aa11", dr.RoleFacilitator)
	t2 := tok("t2", "bb22", dr.RoleDrafter)
	t2.Drafts = []string{"art-*", "annex.1"}
	t2.Expires = created + 86_400_000
	t0 := tok("t0", "cc33", dr.RoleReviewer)
	for _, tk := range []dr.Token{t1, t2, t0} {
		if err := s.PutToken(ctx, tk); err != nil {
			t.Fatalf("PutToken(%s): %v", tk.ID, err)
		}
	}
	wantErr(t, "PutToken of a taken id", s.PutToken(ctx, tok("t1", "dd44", dr.RoleDrafter)), storage.ErrExists)
	wantErr(t, "PutToken of a taken hash", s.PutToken(ctx, tok("t9", "aa11", dr.RoleDrafter)), storage.ErrExists)
	wantErr(t, "PutToken with an empty id", s.PutToken(ctx, tok("", "ee55", dr.RoleDrafter)), storage.ErrInvalid)
	if _, err := s.TokenByHash(ctx, "dd44"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("a refused PutToken left its hash behind: %v", err)
	}
	if _, err := s.Token(ctx, "t9"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("a refused PutToken left its id behind: %v", err)
	}
	for _, want := range []dr.Token{t0, t1, t2} {
		got, err := s.Token(ctx, want.ID)
		if err != nil || !same(got, want) {
			t.Errorf("Token(%s): got %+v, %v; want %+v", want.ID, got, err, want)
		}
		got, err = s.TokenByHash(ctx, want.Hash)
		if err != nil || !same(got, want) {
			t.Errorf("TokenByHash(%s): got %+v, %v; want %+v", want.Hash, got, err, want)
		}
	}
	all, err := s.Tokens(ctx)
	if err != nil || !same(all, []dr.Token{t0, t1, t2}) {
		t.Errorf("Tokens: got %+v, %v; want t0, t1, t2 in id order", all, err)
	}

	if err := s.RevokeToken(ctx, "t2", created+500); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	// A second revocation keeps the first time: that is when it stopped working.
	if err := s.RevokeToken(ctx, "t2", created+900); err != nil {
		t.Fatalf("RevokeToken again: %v", err)
	}
	revoked := t2
	revoked.Revoked = created + 500
	if got, err := s.Token(ctx, "t2"); err != nil || !same(got, revoked) {
		t.Errorf("Token after revoke: got %+v, %v; want %+v", got, err, revoked)
	}
	if got, err := s.TokenByHash(ctx, "bb22"); err != nil || !same(got, revoked) {
		t.Errorf("TokenByHash after revoke: got %+v, %v; want %+v", got, err, revoked)
	}
	all, err = s.Tokens(ctx)
	if err != nil || !same(all, []dr.Token{t0, t1, revoked}) {
		t.Errorf("Tokens after revoke: got %+v, %v", all, err)
	}
	// Revoking one token leaves the others alone.
	if got, err := s.Token(ctx, "t1"); err != nil || got.Revoked != 0 {
		t.Errorf("t1 after revoking t2: got %+v, %v", got, err)
	}
}

func testAudit(t *testing.T, s dr.Store) {
	ctx := context.Background()
	if es, err := s.Audit(ctx, 0, 0); err != nil || len(es) != 0 {
		t.Fatalf("Audit of an empty store: got %v, %v", es, err)
	}
	actions := []string{"login", "token.issue", "draft.create", "bracket.resolve", "label", "token.revoke", "login"}
	var want []dr.AuditEntry
	for i, a := range actions {
		e := dr.AuditEntry{Seq: 99, TS: created + int64(i), Actor: jun, Role: dr.RoleFacilitator, Action: a, Draft: "art-17", Detail: fmt.Sprintf("第%d — «%s»", i, a)}
		got, err := s.AppendAudit(ctx, e)
		if err != nil {
			t.Fatalf("AppendAudit(%s): %v", a, err)
		}
		e.Seq = int64(i + 1) // the store numbers entries 1, 2, ...; the caller's Seq is ignored
		if !same(got, e) {
			t.Errorf("AppendAudit returned %+v, want %+v", got, e)
		}
		want = append(want, e)
	}
	check := func(after int64, limit int, want []dr.AuditEntry) {
		t.Helper()
		got, err := s.Audit(ctx, after, limit)
		if err != nil || !same(got, want) {
			t.Errorf("Audit(%d, %d): got %+v, %v; want %+v", after, limit, got, err, want)
		}
	}
	check(0, 0, want) // limit <= 0: all
	check(0, -1, want)
	check(0, 100, want)
	check(0, 2, want[:2])
	check(2, 3, want[2:5])
	check(6, 10, want[6:])
	check(7, 10, nil)
	check(1000, 10, nil)
	// Paging by the last seq seen visits every entry once.
	var paged []dr.AuditEntry
	for after := int64(0); ; {
		page, err := s.Audit(ctx, after, 3)
		if err != nil {
			t.Fatalf("Audit page after %d: %v", after, err)
		}
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		after = page[len(page)-1].Seq
	}
	if !same(paged, want) {
		t.Errorf("paging the audit log: got %+v, want %+v", paged, want)
	}

	// Concurrent appends get distinct, gapless seqs.
	const n = 40
	seqs := make(chan int64, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			e, err := s.AppendAudit(ctx, dr.AuditEntry{TS: created, Actor: ana, Action: "login", Detail: fmt.Sprint(i)})
			if err != nil {
				t.Errorf("concurrent AppendAudit: %v", err)
			}
			seqs <- e.Seq
		})
	}
	wg.Wait()
	close(seqs)
	var got []int64
	for q := range seqs {
		got = append(got, q)
	}
	slices.Sort(got)
	for i, q := range got {
		if q != int64(len(actions)+1+i) {
			t.Fatalf("concurrent AppendAudit seqs: got %v, want %d..%d", got, len(actions)+1, len(actions)+n)
		}
	}
}

// testNoAliasing checks that a store keeps its own copy of what it is given
// and hands out copies: a caller mutating a slice or map afterwards changes
// nothing stored.
func testNoAliasing(t *testing.T, s dr.Store) {
	ctx := context.Background()
	mustCreate(t, s, "d", "")
	op := edit(1, "c", 1, ot.Op{{Insert: "abc"}, delText("x")})
	meta := map[string]json.RawMessage{"k": json.RawMessage(`[1]`)}
	alts := []string{"a", "b"}
	c := dr.Commit{
		Ops:       []dr.Op{op},
		Snapshots: []dr.Snapshot{{Rev: 1, Text: "abc", Meta: meta}},
		Decisions: []dr.Decision{{Draft: "d", Group: "b1.0", Alternatives: alts, Choice: dr.ChoiceChoose, Result: "a", Rev: 1}},
	}
	mustCommit(t, s, "d", 0, c)
	tk := dr.Token{ID: "t", Hash: "h", Role: dr.RoleDrafter, Drafts: []string{"d"}}
	if err := s.PutToken(ctx, tk); err != nil {
		t.Fatal(err)
	}
	// Mutate everything the caller still holds.
	c.Ops[0].Op[0].Insert = "MUTATED"
	meta["k"][1] = '9'
	meta["new"] = json.RawMessage(`0`)
	alts[0] = "MUTATED"
	tk.Drafts[0] = "MUTATED"
	// And everything a read hands out.
	ops := mustOps(t, s, "d", 1, 1)
	snap := mustSnapshot(t, s, "d", 1)
	decs, err := s.Decisions(ctx, "d")
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Token(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 1 || len(ops[0].Op) != 2 || len(snap.Meta["k"]) != 3 || len(decs) != 1 || len(decs[0].Alternatives) != 2 || len(got.Drafts) != 1 {
		t.Fatalf("records did not round-trip: %+v %+v %+v %+v", ops, snap, decs, got)
	}
	ops[0].Op[0].Insert = "MUTATED"
	snap.Meta["k"][1] = '9'
	decs[0].Alternatives[1] = "MUTATED"
	got.Drafts[0] = "MUTATED"

	if ops := mustOps(t, s, "d", 1, 1); ops[0].Op[0].Insert != "abc" {
		t.Errorf("stored op changed through an alias: %+v", ops[0].Op)
	}
	if snap := mustSnapshot(t, s, "d", 1); string(snap.Meta["k"]) != "[1]" || len(snap.Meta) != 1 {
		t.Errorf("stored snapshot meta changed through an alias: %s", snap.Meta)
	}
	if decs, _ := s.Decisions(ctx, "d"); !slices.Equal(decs[0].Alternatives, []string{"a", "b"}) {
		t.Errorf("stored alternatives changed through an alias: %q", decs[0].Alternatives)
	}
	if got, _ := s.Token(ctx, "t"); !slices.Equal(got.Drafts, []string{"d"}) {
		t.Errorf("stored token drafts changed through an alias: %q", got.Drafts)
	}
}

// testConcurrentSameBase races many commits on one draft, all made on the
// same head: the store must let exactly one through, whatever the
// interleaving or batching, and refuse the rest with ErrRevConflict.
func testConcurrentSameBase(t *testing.T, s dr.Store) {
	ctx := context.Background()
	mustCreate(t, s, "d", "")
	const writers = 24
	for round := range 5 {
		base := round
		errs := make([]error, writers)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for w := range writers {
			wg.Go(func() {
				<-start
				op := edit(base+1, fmt.Sprintf("w%d", w), uint64(base+1), ins(0, fmt.Sprintf("w%d ", w)))
				errs[w] = s.Commit(ctx, "d", base, dr.Commit{Ops: []dr.Op{op}})
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for w, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("round %d: writers %d and %d both committed on base %d", round, winner, w, base)
			case err == nil:
				winner = w
			case !errors.Is(err, storage.ErrRevConflict):
				t.Errorf("round %d: writer %d: got %v, want ErrRevConflict", round, w, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no writer committed", round)
		}
		ops := mustOps(t, s, "d", base+1, base+1)
		if len(ops) != 1 || ops[0].Client != fmt.Sprintf("w%d", winner) {
			t.Fatalf("round %d: op %d is %+v, want the winner w%d's", round, base+1, ops, winner)
		}
		if d := mustDraft(t, s, "d"); d.Rev != base+1 {
			t.Fatalf("round %d: head %d, want %d", round, d.Rev, base+1)
		}
	}
}

// testConcurrentRetry has writers commit on one draft, each retrying on
// conflict from the head it reads, until every op has landed: the log must
// end up as revisions 1..N with each submission exactly once.
func testConcurrentRetry(t *testing.T, s dr.Store) {
	ctx := context.Background()
	mustCreate(t, s, "d", "")
	const writers, each = 8, 12
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			client := fmt.Sprintf("w%d", w)
			for seq := uint64(1); seq <= each; seq++ {
				for attempt := 0; ; attempt++ {
					d, err := s.Draft(ctx, "d")
					if err != nil {
						t.Errorf("%s: Draft: %v", client, err)
						return
					}
					err = s.Commit(ctx, "d", d.Rev, dr.Commit{Ops: []dr.Op{edit(d.Rev+1, client, seq, ins(0, client))}})
					if err == nil {
						break
					}
					if !errors.Is(err, storage.ErrRevConflict) || attempt > 10_000 {
						t.Errorf("%s seq %d: %v after %d attempts", client, seq, err, attempt)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	ops := mustOps(t, s, "d", 1, 1<<30)
	if len(ops) != writers*each {
		t.Fatalf("log has %d ops, want %d", len(ops), writers*each)
	}
	seen := map[string]bool{}
	for i, op := range ops {
		key := fmt.Sprintf("%s/%d", op.Client, op.Seq)
		if op.Rev != i+1 || seen[key] {
			t.Fatalf("op %d: rev %d, submission %s (seen before: %v)", i+1, op.Rev, key, seen[key])
		}
		seen[key] = true
		if rev, err := s.SeqRev(ctx, "d", op.Principal, op.Client, op.Seq, 0); err != nil || rev != op.Rev {
			t.Errorf("SeqRev(%s): got %d, %v; want %d", key, rev, err, op.Rev)
		}
	}
}

// testConcurrentDrafts commits on many drafts at once (what a group commit
// batches together): every commit lands on its own draft.
func testConcurrentDrafts(t *testing.T, s dr.Store) {
	ctx := context.Background()
	const drafts, commits = 16, 20
	for i := range drafts {
		mustCreate(t, s, fmt.Sprintf("d%02d", i), "")
	}
	var wg sync.WaitGroup
	for i := range drafts {
		wg.Go(func() {
			id := fmt.Sprintf("d%02d", i)
			base := 0
			for range commits {
				n := 1 + (base+i)%3
				ops := run(base, n, id)
				snaps := []dr.Snapshot{{Rev: base + n, Text: fmt.Sprintf("%s@%d", id, base+n)}}
				if err := s.Commit(ctx, id, base, dr.Commit{Ops: ops, Snapshots: snaps}); err != nil {
					t.Errorf("Commit(%s@%d): %v", id, base, err)
					return
				}
				base += n
			}
		})
	}
	wg.Wait()
	for i := range drafts {
		id := fmt.Sprintf("d%02d", i)
		d := mustDraft(t, s, id)
		ops := mustOps(t, s, id, 1, 1<<30)
		if len(ops) != d.Rev {
			t.Errorf("%s: %d ops, head %d", id, len(ops), d.Rev)
		}
		for j, op := range ops {
			if op.Rev != j+1 || op.Client != id {
				t.Errorf("%s: op %d is %+v", id, j+1, op)
				break
			}
		}
		if snap := mustSnapshot(t, s, id, d.Rev); snap.Rev != d.Rev || snap.Text != fmt.Sprintf("%s@%d", id, d.Rev) {
			t.Errorf("%s: latest snapshot %+v, want rev %d", id, snap, d.Rev)
		}
	}
}

// testModel drives a store with a random mix of calls and checks every
// answer against a plain in-test model of the contract. The seed is logged
// so that a failure can be replayed.
func testModel(t *testing.T, s dr.Store) {
	ctx := context.Background()
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0x5eed))

	type model struct {
		ops   []dr.Op
		snaps []dr.Snapshot // in rev order
		seqs  map[string]int
	}
	ids := []string{"a", "b", "c"}
	m := map[string]*model{}
	for _, id := range ids {
		mustCreate(t, s, id, "init "+id)
		m[id] = &model{snaps: []dr.Snapshot{{Rev: 0, Text: "init " + id}}, seqs: map[string]int{}}
	}
	key := func(op dr.Op) string { return fmt.Sprintf("%s\x00%s\x00%d", op.Principal, op.Client, op.Seq) }
	clients := []string{"x", "y", "z"}
	for step := range 300 {
		id := ids[rng.IntN(len(ids))]
		md := m[id]
		head := len(md.ops)
		switch k := rng.IntN(10); {
		case k < 5: // commit, sometimes at a stale base, sometimes with a duplicate
			base := head
			if rng.IntN(5) == 0 {
				base = rng.IntN(head + 2)
			}
			n := 1 + rng.IntN(4)
			c := dr.Commit{}
			for i := range n {
				client := clients[rng.IntN(len(clients))]
				op := edit(base+1+i, client, uint64(rng.IntN(40)), ins(rng.IntN(3), fmt.Sprintf("s%d", step)))
				c.Ops = append(c.Ops, op)
			}
			if rng.IntN(3) == 0 {
				c.Snapshots = []dr.Snapshot{{Rev: base + 1 + rng.IntN(n), Text: fmt.Sprintf("snap %d", step)}}
			}
			err := s.Commit(ctx, id, base, c)
			dup := false
			inCommit := map[string]bool{}
			for _, op := range c.Ops {
				if _, ok := md.seqs[key(op)]; ok || inCommit[key(op)] {
					dup = true
				}
				inCommit[key(op)] = true
			}
			switch {
			case base != head:
				// Conflict and duplicate can both apply; either answer
				// is right, as long as nothing is written.
				if !errors.Is(err, storage.ErrRevConflict) && !(dup && errors.Is(err, storage.ErrDuplicate)) {
					t.Fatalf("step %d: Commit(%s@%d) with head %d: got %v, want ErrRevConflict", step, id, base, head, err)
				}
			case dup:
				wantErr(t, fmt.Sprintf("step %d: Commit with a duplicate", step), err, storage.ErrDuplicate)
			case err != nil:
				t.Fatalf("step %d: Commit(%s@%d): %v", step, id, base, err)
			default:
				md.ops = append(md.ops, c.Ops...)
				for _, op := range c.Ops {
					md.seqs[key(op)] = op.Rev
				}
				md.snaps = append(md.snaps, c.Snapshots...)
			}
		case k < 7: // a range of ops
			from := 1 + rng.IntN(head+2)
			to := from - 1 + rng.IntN(8)
			got := mustOps(t, s, id, from, to)
			var want []dr.Op
			if from <= head {
				want = md.ops[from-1 : min(to, head)]
			}
			if !same(got, want) {
				t.Fatalf("step %d: Ops(%s, %d, %d): got %d ops, want %d", step, id, from, to, len(got), len(want))
			}
		case k < 8: // a snapshot lookup
			rev := rng.IntN(head + 3)
			want := md.snaps[0]
			for _, sn := range md.snaps {
				if sn.Rev <= rev {
					want = sn
				}
			}
			if got := mustSnapshot(t, s, id, rev); !same(got, want) {
				t.Fatalf("step %d: Snapshot(%s, %d): got %+v, want %+v", step, id, rev, got, want)
			}
		case k < 9: // dedupe lookup
			op := edit(0, clients[rng.IntN(len(clients))], uint64(rng.IntN(40)), nil)
			rev, err := s.SeqRev(ctx, id, op.Principal, op.Client, op.Seq, 0)
			if want, ok := md.seqs[key(op)]; ok {
				if err != nil || rev != want {
					t.Fatalf("step %d: SeqRev: got %d, %v; want %d", step, rev, err, want)
				}
			} else {
				wantErr(t, fmt.Sprintf("step %d: SeqRev of an unknown submission", step), err, storage.ErrNotFound)
			}
		default: // the draft itself
			d := mustDraft(t, s, id)
			wantUpdated := created
			if head > 0 {
				wantUpdated = md.ops[head-1].TS
			}
			if d.Rev != head || d.Updated != wantUpdated {
				t.Fatalf("step %d: Draft(%s): rev %d updated %d, want %d and %d", step, id, d.Rev, d.Updated, head, wantUpdated)
			}
		}
	}
}

func testClose(t *testing.T, s dr.Store) {
	ctx := context.Background()
	mustCreate(t, s, "d", "x")
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	closed := storage.ErrClosed
	_, err := s.Draft(ctx, "d")
	wantErr(t, "Draft after Close", err, closed)
	_, err = s.Drafts(ctx)
	wantErr(t, "Drafts after Close", err, closed)
	title := "t"
	_, err = s.PatchDraft(ctx, "d", dr.DraftPatch{Title: &title})
	wantErr(t, "PatchDraft after Close", err, closed)
	wantErr(t, "CreateDraft after Close", s.CreateDraft(ctx, newDraft("e"), ""), closed)
	wantErr(t, "Commit after Close", s.Commit(ctx, "d", 0, dr.Commit{Ops: run(0, 1, "c")}), closed)
	_, err = s.Ops(ctx, "d", 1, 1)
	wantErr(t, "Ops after Close", err, closed)
	_, err = s.Snapshot(ctx, "d", 0)
	wantErr(t, "Snapshot after Close", err, closed)
	wantErr(t, "PutToken after Close", s.PutToken(ctx, dr.Token{ID: "t", Hash: "h"}), closed)
	_, err = s.AppendAudit(ctx, dr.AuditEntry{Action: "login"})
	wantErr(t, "AppendAudit after Close", err, closed)
	wantErr(t, "Health after Close", s.Health(), closed)
	var buf bytes.Buffer
	_, err = s.Backup(ctx, &buf)
	wantErr(t, "Backup after Close", err, closed)
	if err := s.Close(); err != nil {
		t.Errorf("second Close: got %v, want nil", err)
	}
}
