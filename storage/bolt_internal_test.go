package storage

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/internal/testenv"
	"github.com/draftroom/draftroom/ot"
)

func openTestBolt(t testing.TB, path string) *Bolt {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "draftroom.db")
	}
	b, err := OpenBolt(path, BoltOptions{})
	if err != nil {
		t.Fatalf("OpenBolt: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func testOp(rev int, client string, seq uint64) dr.Op {
	return dr.Op{
		Rev: rev, Client: client, Seq: seq, Principal: "tok:" + client,
		By: dr.Author{Delegation: "CAN", Name: "Ana"}, TS: 1_795_000_000_000 + int64(rev),
		Op: ot.Op{{Skip: rev}, {Insert: fmt.Sprintf("%s·%d ", client, seq)}},
	}
}

// stallWriter occupies the writer goroutine until the returned function is
// called, so that the requests sent meanwhile queue up and are applied as
// one batch.
func stallWriter(t *testing.T, b *Bolt) (release func()) {
	t.Helper()
	started, unblock := make(chan struct{}), make(chan struct{})
	req := &writeReq{err: make(chan error, 1), fn: func(*bolt.Tx) error {
		close(started)
		<-unblock
		return fmt.Errorf("stall: %w", ErrRevConflict) // refused: writes nothing
	}}
	b.reqs <- req
	<-started
	return func() {
		close(unblock)
		if err := <-req.err; !errors.Is(err, ErrRevConflict) {
			t.Errorf("stall request: %v", err)
		}
	}
}

// waitQueued waits until n requests are waiting for the writer (a queue's
// length: no event to wait on, polled with testenv.Until).
func waitQueued(t *testing.T, b *Bolt, n int) {
	t.Helper()
	testenv.Until(t, fmt.Sprintf("%d requests queued for the writer", n), func() bool { return len(b.reqs) >= n })
}

// TestBoltGroupCommit checks that commits waiting together, on different
// drafts and on one draft with chained bases, land in one transaction.
func TestBoltGroupCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := openTestBolt(t, "")
	const drafts = 30
	for i := range drafts {
		if err := b.CreateDraft(ctx, dr.Draft{ID: fmt.Sprintf("d%d", i)}, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.CreateDraft(ctx, dr.Draft{ID: "one"}, ""); err != nil {
		t.Fatal(err)
	}
	release := stallWriter(t, b)
	syncsBefore := b.txs.Load() + b.appends.Load()
	var wg sync.WaitGroup
	errs := make(chan error, drafts+5)
	for i := range drafts {
		wg.Go(func() {
			errs <- b.Commit(ctx, fmt.Sprintf("d%d", i), 0, dr.Commit{Ops: []dr.Op{testOp(1, "c", 1)}})
		})
	}
	waitQueued(t, b, drafts)
	// Five commits on one draft, each on the head the previous one makes,
	// queued in order: all of them land in the same transaction.
	for i := range 5 {
		wg.Go(func() { errs <- b.Commit(ctx, "one", i, dr.Commit{Ops: []dr.Op{testOp(i+1, "c", uint64(i+1))}}) })
		waitQueued(t, b, drafts+i+1)
	}
	release()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Commit: %v", err)
		}
	}
	if got := b.txs.Load() + b.appends.Load() - syncsBefore; got != 1 {
		t.Errorf("%d queued commits took %d transactions or log appends, want 1", drafts+5, got)
	}
	if d, err := b.Draft(ctx, "one"); err != nil || d.Rev != 5 {
		t.Errorf("draft one: %+v, %v; want rev 5", d, err)
	}
}

// TestBoltBatchIsolation puts, in one transaction, good commits next to a
// refused one, one that fails after writing and one that panics after
// writing: only the failing ones fail, nothing of theirs is stored, and the
// writer carries on.
func TestBoltBatchIsolation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := openTestBolt(t, "")
	for _, id := range []string{"a", "b", "c"} {
		if err := b.CreateDraft(ctx, dr.Draft{ID: id}, ""); err != nil {
			t.Fatal(err)
		}
	}
	release := stallWriter(t, b)
	results := make(map[string]chan error)
	send := func(name string, fn func() error) {
		ch := make(chan error, 1)
		results[name] = ch
		go func() { ch <- fn() }()
		waitQueued(t, b, len(results))
	}
	send("good a", func() error { return b.Commit(ctx, "a", 0, dr.Commit{Ops: []dr.Op{testOp(1, "x", 1)}}) })
	send("conflict b", func() error { return b.Commit(ctx, "b", 3, dr.Commit{Ops: []dr.Op{testOp(4, "x", 1)}}) })
	broken := errors.New("disk on fire")
	send("broken c", func() error {
		return b.write(ctx, "broken", func(tx *bolt.Tx) error {
			// Writes half a commit, then fails the way an I/O error would.
			db, _ := draftBucket(tx, "broken", "c")
			if err := db.Bucket(bucketOps).Put(revKey(1), appendOpRecord(nil, testOp(1, "y", 1))); err != nil {
				return err
			}
			return broken
		})
	})
	send("good b", func() error { return b.Commit(ctx, "b", 0, dr.Commit{Ops: []dr.Op{testOp(1, "x", 2)}}) })
	send("panic", func() error {
		return b.write(ctx, "panic", func(tx *bolt.Tx) error {
			db, _ := draftBucket(tx, "panic", "c")
			if err := db.Bucket(bucketOps).Put(revKey(1), appendOpRecord(nil, testOp(1, "z", 1))); err != nil {
				return err
			}
			panic("a bug")
		})
	})
	release()
	wantErrs := map[string]error{"good a": nil, "conflict b": ErrRevConflict, "broken c": broken, "good b": nil, "panic": nil}
	for name, ch := range results {
		err := <-ch
		if name == "panic" {
			if err == nil || !strings.Contains(err.Error(), "panicked") {
				t.Errorf("panic: got %v, want the panic as an error", err)
			}
			continue
		}
		if want := wantErrs[name]; (want == nil) != (err == nil) || (want != nil && !errors.Is(err, want)) {
			t.Errorf("%s: got %v, want %v", name, err, want)
		}
	}
	for id, want := range map[string]int{"a": 1, "b": 1, "c": 0} {
		ops, err := b.Ops(ctx, id, 1, 10)
		if err != nil || len(ops) != want {
			t.Errorf("draft %s: %d ops (%v), want %d", id, len(ops), err, want)
		}
	}
	// The writer survived the panic.
	if err := b.Commit(ctx, "c", 0, dr.Commit{Ops: []dr.Op{testOp(1, "x", 3)}}); err != nil {
		t.Errorf("Commit after the batch: %v", err)
	}
}

// TestBoltCloseDrains closes the store while commits wait for the writer:
// each of them is committed and answered, and reopening shows them.
func TestBoltCloseDrains(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "draftroom.db")
	b, err := OpenBolt(path, BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	for i := range n {
		if err := b.CreateDraft(ctx, dr.Draft{ID: fmt.Sprint(i)}, ""); err != nil {
			t.Fatal(err)
		}
	}
	release := stallWriter(t, b)
	errs := make(chan error, n)
	for i := range n {
		go func() { errs <- b.Commit(ctx, fmt.Sprint(i), 0, dr.Commit{Ops: []dr.Op{testOp(1, "c", 1)}}) }()
	}
	waitQueued(t, b, n)
	closed := make(chan error)
	go func() { closed <- b.Close() }()
	// Close must wait for the queued commits, not cut them off.
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while commits were queued", err)
	case <-time.After(50 * time.Millisecond):
	}
	release()
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("queued Commit: %v", err)
		}
	}
	if err := b.Commit(ctx, "0", 1, dr.Commit{Ops: []dr.Op{testOp(2, "c", 2)}}); !errors.Is(err, ErrClosed) {
		t.Errorf("Commit after Close: %v, want ErrClosed", err)
	}
	b = openTestBolt(t, path)
	for i := range n {
		if d, err := b.Draft(ctx, fmt.Sprint(i)); err != nil || d.Rev != 1 {
			t.Errorf("after reopen, draft %d: %+v, %v; want rev 1", i, d, err)
		}
	}
}

// TestBoltReopen writes one of everything, closes the file, reopens it and
// finds all of it, then carries on where it left off.
func TestBoltReopen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "draftroom.db")
	b, err := OpenBolt(path, BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	by := dr.Author{Delegation: "JPN", Name: "田中"}
	if err := b.CreateDraft(ctx, dr.Draft{ID: "art-17", Title: "第17条", Created: 5, By: by}, "text 😭"); err != nil {
		t.Fatal(err)
	}
	ops := []dr.Op{testOp(1, "c", 1), testOp(2, "c", 2), testOp(3, "d", 1)}
	c := dr.Commit{
		Ops:       ops,
		Snapshots: []dr.Snapshot{{Rev: 3, Text: "three"}},
		Proposals: []dr.Proposal{{Draft: "art-17", Group: "b1.0", Text: "p", By: by, Rev: 2}},
		Decisions: []dr.Decision{{Draft: "art-17", Group: "b1.0", Alternatives: []string{"p"}, Choice: dr.ChoiceDrop, By: by, Rev: 3}},
	}
	mustNil := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	mustNil("Commit", b.Commit(ctx, "art-17", 0, c))
	mustNil("PutLabel", b.PutLabel(ctx, dr.Label{Draft: "art-17", Name: "v1", Rev: 2, By: by}))
	mustNil("PutToken", b.PutToken(ctx, dr.Token{ID: "t1", Hash: "h1", Role: dr.RoleDrafter}))
	mustNil("RevokeToken", b.RevokeToken(ctx, "t1", 77))
	_, err = b.AppendAudit(ctx, dr.AuditEntry{Action: "login", Actor: by})
	mustNil("AppendAudit", err)
	mustNil("Close", b.Close())

	b = openTestBolt(t, path)
	d, err := b.Draft(ctx, "art-17")
	if err != nil || d.Rev != 3 || d.Title != "第17条" || d.Updated != ops[2].TS {
		t.Errorf("Draft after reopen: %+v, %v", d, err)
	}
	got, err := b.Ops(ctx, "art-17", 1, 3)
	if err != nil || len(got) != 3 || got[2].Client != "d" || got[1].Op[1].Insert != ops[1].Op[1].Insert {
		t.Errorf("Ops after reopen: %+v, %v", got, err)
	}
	if s, err := b.Snapshot(ctx, "art-17", 5); err != nil || s.Text != "three" {
		t.Errorf("Snapshot after reopen: %+v, %v", s, err)
	}
	if rev, err := b.SeqRev(ctx, "art-17", "tok:d", "d", 1, 0); err != nil || rev != 3 {
		t.Errorf("SeqRev after reopen: %d, %v", rev, err)
	}
	if ps, err := b.Proposals(ctx, "art-17"); err != nil || len(ps) != 1 {
		t.Errorf("Proposals after reopen: %+v, %v", ps, err)
	}
	if ds, err := b.Decisions(ctx, "art-17"); err != nil || len(ds) != 1 {
		t.Errorf("Decisions after reopen: %+v, %v", ds, err)
	}
	if ls, err := b.Labels(ctx, "art-17"); err != nil || len(ls) != 1 || ls[0].Name != "v1" {
		t.Errorf("Labels after reopen: %+v, %v", ls, err)
	}
	if tk, err := b.TokenByHash(ctx, "h1"); err != nil || tk.Revoked != 77 {
		t.Errorf("TokenByHash after reopen: %+v, %v", tk, err)
	}
	// The audit sequence carries on after a restart instead of reusing 1.
	if e, err := b.AppendAudit(ctx, dr.AuditEntry{Action: "login"}); err != nil || e.Seq != 2 {
		t.Errorf("AppendAudit after reopen: %+v, %v; want seq 2", e, err)
	}
	// Dedupe survives the restart too.
	if err := b.Commit(ctx, "art-17", 3, dr.Commit{Ops: []dr.Op{testOp(4, "c", 2)}}); !errors.Is(err, ErrDuplicate) {
		t.Errorf("resubmission after reopen: %v, want ErrDuplicate", err)
	}
	mustNil("Commit after reopen", b.Commit(ctx, "art-17", 3, dr.Commit{Ops: []dr.Op{testOp(4, "c", 3)}}))
}

// TestBoltOpenLocked: a second process (here, a second open) waits for the
// lock only up to the timeout, then fails with a clear error.
func TestBoltOpenLocked(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "draftroom.db")
	openTestBolt(t, path)
	start := time.Now()
	b, err := OpenBolt(path, BoltOptions{Timeout: 100 * time.Millisecond})
	if err == nil {
		b.Close()
		t.Fatal("a second OpenBolt of a file in use succeeded")
	}
	if !strings.Contains(err.Error(), path) || time.Since(start) > 5*time.Second {
		t.Errorf("second OpenBolt: %v after %v", err, time.Since(start))
	}
}

// The kill -9 test runs a child process (this test binary again) that
// commits as fast as it can on several drafts and prints each
// acknowledged commit; the parent SIGKILLs it mid-stream, reopens the file
// and checks that every acknowledged op is there and the logs are gapless.
const killDirEnv = "DRAFTROOM_STORAGE_KILL_DIR"

func TestBoltKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process; skipped with -short")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBoltKill9Child$", "-test.v")
	cmd.Env = append(os.Environ(), killDirEnv+"="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[string]int{} // draft -> highest acknowledged rev
	lines := bufio.NewScanner(stdout)
	total := 0
	for total < 600 && lines.Scan() {
		f := strings.Fields(lines.Text())
		if len(f) != 3 || f[0] != "acked" {
			continue
		}
		rev, _ := strconv.Atoi(f[2])
		acked[f[1]] = max(acked[f[1]], rev)
		total++
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if total < 600 {
		t.Fatalf("child stopped after %d acks: %v", total, lines.Err())
	}

	ctx := context.Background()
	b := openTestBolt(t, filepath.Join(dir, "draftroom.db"))
	for id, rev := range acked {
		d, err := b.Draft(ctx, id)
		if err != nil {
			t.Fatalf("draft %s after kill: %v", id, err)
		}
		if d.Rev < rev {
			t.Errorf("draft %s: head %d after kill, but rev %d was acknowledged", id, d.Rev, rev)
		}
		ops, err := b.Ops(ctx, id, 1, d.Rev)
		if err != nil || len(ops) != d.Rev {
			t.Fatalf("draft %s: %d ops for head %d (%v)", id, len(ops), d.Rev, err)
		}
		for i, op := range ops {
			if op.Rev != i+1 || op.Seq != uint64(i+1) || op.Client != "w" {
				t.Fatalf("draft %s: op %d is %+v", id, i+1, op)
			}
		}
	}
	t.Logf("%d acks on %d drafts survived kill -9", total, len(acked))
}

// TestBoltKill9Child is the child of TestBoltKill9; it does nothing in an
// ordinary run.
func TestBoltKill9Child(t *testing.T) {
	dir := os.Getenv(killDirEnv)
	if dir == "" {
		t.Skip("only runs as the child of TestBoltKill9")
	}
	ctx := context.Background()
	b, err := OpenBolt(filepath.Join(dir, "draftroom.db"), BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out sync.Mutex
	var wg sync.WaitGroup
	for i := range 8 {
		id := fmt.Sprintf("d%d", i)
		if err := b.CreateDraft(ctx, dr.Draft{ID: id}, ""); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			for rev := 1; ; rev++ {
				if err := b.Commit(ctx, id, rev-1, dr.Commit{Ops: []dr.Op{testOp(rev, "w", uint64(rev))}}); err != nil {
					t.Error(err)
					return
				}
				// Printed only after Commit returned: an acknowledgement.
				out.Lock()
				fmt.Printf("acked %s %d\n", id, rev)
				out.Unlock()
			}
		})
	}
	wg.Wait()
}

// TestBoltDedupeWindow: a client's last recentSize submissions are
// recognised from its window, and the record stays one small value per
// client; older ones are found by searching the ops after the revision
// they were made on (SeqRev's after), and only there.
func TestBoltDedupeWindow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := openTestBolt(t, "")
	if err := b.CreateDraft(ctx, dr.Draft{ID: "d"}, ""); err != nil {
		t.Fatal(err)
	}
	const n = recentSize + 8
	for rev := 1; rev <= n; rev++ {
		if err := b.Commit(ctx, "d", rev-1, dr.Commit{Ops: []dr.Op{testOp(rev, "c", uint64(100+rev))}}); err != nil {
			t.Fatal(err)
		}
	}
	for rev := 1; rev <= n; rev++ {
		seq := uint64(100 + rev)
		// after = n: nothing to search, the window alone answers.
		got, err := b.SeqRev(ctx, "d", "tok:c", "c", seq, n)
		if remembered := rev > n-recentSize; remembered && (err != nil || got != rev) {
			t.Errorf("SeqRev(seq %d) = %d, %v; want %d", seq, got, err, rev)
		} else if !remembered && !errors.Is(err, ErrNotFound) {
			t.Errorf("SeqRev(seq %d) = %d, %v; want ErrNotFound (beyond the window)", seq, got, err)
		}
		// after = the revision it was made on: the search finds it.
		if got, err := b.SeqRev(ctx, "d", "tok:c", "c", seq, rev-1); err != nil || got != rev {
			t.Errorf("SeqRev(seq %d, after %d) = %d, %v; want %d", seq, rev-1, got, err, rev)
		}
		// The search starts after after: a copy at or before it is not
		// the one a resend made on after can have.
		if _, err := b.SeqRev(ctx, "d", "tok:c", "c", seq, rev); !errors.Is(err, ErrNotFound) && rev <= n-recentSize {
			t.Errorf("SeqRev(seq %d, after %d): %v, want ErrNotFound", seq, rev, err)
		}
	}
	err := b.Commit(ctx, "d", n, dr.Commit{Ops: []dr.Op{testOp(n+1, "c", uint64(100+n))}})
	if !errors.Is(err, ErrDuplicate) {
		t.Errorf("resending the latest: %v, want ErrDuplicate", err)
	}
	err = b.view(ctx, "test", func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketDrafts).Bucket([]byte("d")).Bucket(bucketRecent).Get(clientKey("tok:c", "c"))
		if len(v) != recentSize*16 {
			t.Errorf("recent record is %d bytes, want %d", len(v), recentSize*16)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestBoltOldSeqs: a file written before the recent bucket existed (one
// seqs key per submission, no recent bucket) still dedupes what it holds,
// and takes new commits.
func TestBoltOldSeqs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "draftroom.db")
	b := openTestBolt(t, path)
	if err := b.CreateDraft(ctx, dr.Draft{ID: "d"}, ""); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(ctx, "d", 0, dr.Commit{Ops: []dr.Op{testOp(1, "c", 7)}}); err != nil {
		t.Fatal(err)
	}
	// Rewrite the draft the old way: seqs holds (principal, client, seq).
	err := b.write(ctx, "test", func(tx *bolt.Tx) error {
		db := tx.Bucket(bucketDrafts).Bucket([]byte("d"))
		if err := db.DeleteBucket(bucketRecent); err != nil {
			return err
		}
		seqs, err := db.CreateBucketIfNotExists(bucketSeqs)
		if err != nil {
			return err
		}
		return seqs.Put(binary.BigEndian.AppendUint64(clientKey("tok:c", "c"), 7), revKey(1))
	})
	if err != nil {
		t.Fatal(err)
	}
	if rev, err := b.SeqRev(ctx, "d", "tok:c", "c", 7, 0); err != nil || rev != 1 {
		t.Errorf("SeqRev from the old bucket = %d, %v; want 1", rev, err)
	}
	if err := b.Commit(ctx, "d", 1, dr.Commit{Ops: []dr.Op{testOp(2, "c", 7)}}); !errors.Is(err, ErrDuplicate) {
		t.Errorf("resend of an old-layout submission: %v, want ErrDuplicate", err)
	}
	if err := b.Commit(ctx, "d", 1, dr.Commit{Ops: []dr.Op{testOp(2, "c", 8)}}); err != nil {
		t.Fatalf("new commit on an old-layout draft: %v", err)
	}
	if rev, err := b.SeqRev(ctx, "d", "tok:c", "c", 8, 0); err != nil || rev != 2 {
		t.Errorf("SeqRev of the new commit = %d, %v; want 2", rev, err)
	}
}
