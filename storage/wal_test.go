package storage

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/internal/testenv"
	bolt "go.etcd.io/bbolt"
)

// crashWithLogged commits n ops on a new draft id through a store's log
// and, before they are checkpointed, copies its two files to path: what a
// crash at that moment leaves on disk (bbolt without the commits, the log
// with them). The writer is idle when the copy is made, so the bbolt file
// is a consistent one.
func crashWithLogged(t *testing.T, path string, id string, n int) {
	t.Helper()
	ctx := context.Background()
	live := filepath.Join(t.TempDir(), "live.db")
	b, err := OpenBolt(live, BoltOptions{CheckpointEvery: 1 << 40})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.CreateDraft(ctx, dr.Draft{ID: id}, ""); err != nil {
		t.Fatal(err)
	}
	for rev := 1; rev <= n; rev++ {
		if err := b.Commit(ctx, id, rev-1, dr.Commit{Ops: []dr.Op{testOp(rev, "c", uint64(rev))}}); err != nil {
			t.Fatal(err)
		}
	}
	if got := b.unsettled.Load(); got != int64(n) {
		t.Fatalf("%d commits only in the log, want %d", got, n)
	}
	for _, suffix := range []string{"", walSuffixes[0], walSuffixes[1]} {
		data, err := os.ReadFile(live + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path+suffix, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func reopen(t *testing.T, path string) *Bolt {
	t.Helper()
	b, err := OpenBolt(path, BoltOptions{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func wantOps(t *testing.T, b *Bolt, id string, n int) {
	t.Helper()
	ctx := context.Background()
	d, err := b.Draft(ctx, id)
	if err != nil || d.Rev != n {
		t.Fatalf("draft %s: %+v, %v; want rev %d", id, d, err, n)
	}
	ops, err := b.Ops(ctx, id, 1, n)
	if err != nil || len(ops) != n {
		t.Fatalf("ops of %s: %d, %v; want %d", id, len(ops), err, n)
	}
	for i, op := range ops {
		if op.Rev != i+1 || op.Seq != uint64(i+1) {
			t.Fatalf("op %d is %+v", i+1, op)
		}
	}
}

// TestWALReplay: commits acknowledged from the log alone are in the store
// after a crash, and their dedupe records too.
func TestWALReplay(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "draftroom.db")
	crashWithLogged(t, path, "d", 7)
	if st, err := os.Stat(path + walSuffixes[0]); err != nil || st.Size() == 0 {
		t.Fatalf("the log is empty before the reopen (%v): the test proves nothing", err)
	}
	b := reopen(t, path)
	wantOps(t, b, "d", 7)
	err := b.Commit(context.Background(), "d", 7, dr.Commit{Ops: []dr.Op{testOp(8, "c", 7)}})
	if !errors.Is(err, ErrDuplicate) {
		t.Errorf("resend of a replayed submission: %v, want ErrDuplicate", err)
	}
	for _, suffix := range walSuffixes {
		if st, err := os.Stat(path + suffix); err != nil || st.Size() != 0 {
			t.Errorf("log %s after replay: %v, %v; want empty", suffix, st, err)
		}
	}
}

// TestWALReplayTwice: a log whose emptying after a checkpoint did not
// reach the disk holds commits bbolt has too; replaying skips them.
func TestWALReplayTwice(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "draftroom.db")
	crashWithLogged(t, path, "d", 5)
	log, err := os.ReadFile(path + walSuffixes[0])
	if err != nil || len(log) == 0 {
		t.Fatalf("log: %d bytes, %v", len(log), err)
	}
	b, err := OpenBolt(path, BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+walSuffixes[0], log, 0o600); err != nil {
		t.Fatal(err)
	}
	wantOps(t, reopen(t, path), "d", 5)
}

// TestWALTornTail: a crash in the middle of an append leaves part of a
// frame (never synced, never acknowledged); the frames before it are
// replayed, the part is cut off, and the log takes new appends.
func TestWALTornTail(t *testing.T) {
	t.Parallel()
	for _, tail := range []struct {
		name string
		cut  func(log []byte) []byte
	}{
		{"half a header", func(log []byte) []byte { return append(log, 0x10, 0x00) }},
		{"header only", func(log []byte) []byte { return append(log, 40, 0, 0, 0, 1, 2, 3, 4) }},
		{"short payload", func(log []byte) []byte { return append(log, appendWALFrame(nil, []byte("0123456789"))[:12]...) }},
		{"bad checksum", func(log []byte) []byte {
			f := appendWALFrame(nil, []byte("0123456789"))
			f[len(f)-1] ^= 1
			return append(log, f...)
		}},
		{"huge length", func(log []byte) []byte { return append(log, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0, 1) }},
		// A crash can leave an appended block allocated but never
		// written: zeros, which read as frames of length 0 whose
		// checksum (of nothing) holds. The open failed on them before.
		{"zeros", func(log []byte) []byte { return append(log, make([]byte, 4096)...) }},
	} {
		t.Run(tail.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "draftroom.db")
			crashWithLogged(t, path, "d", 3)
			log, err := os.ReadFile(path + walSuffixes[0])
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path+walSuffixes[0], tail.cut(log), 0o600); err != nil {
				t.Fatal(err)
			}
			b := reopen(t, path)
			wantOps(t, b, "d", 3)
			if err := b.Commit(context.Background(), "d", 3, dr.Commit{Ops: []dr.Op{testOp(4, "c", 4)}}); err != nil {
				t.Fatal(err)
			}
			wantOps(t, b, "d", 4)
		})
	}
}

// TestWALCorruptRecord: a frame whose checksum holds but whose content is
// not a commit this code wrote stops the open with an error instead of
// guessing.
func TestWALCorruptRecord(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "draftroom.db")
	crashWithLogged(t, path, "d", 1)
	f, err := os.OpenFile(path+walSuffixes[0], os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(appendWALFrame(nil, []byte("\x01d\x02\x04")))
	f.Close()
	if b, err := OpenBolt(path, BoltOptions{}); err == nil {
		b.Close()
		t.Fatal("OpenBolt accepted a log record that is not a commit")
	} else if !errors.Is(err, errBadWAL) {
		t.Errorf("OpenBolt: %v, want errBadWAL", err)
	}
}

// TestWALSyncFailure: when syncing the log fails, the commits of that
// append are refused, and so is every later commit (after a failed fsync
// the kernel may have dropped the pages, so a retry could claim data that
// is not on disk); what was acknowledged before stays readable.
func TestWALSyncFailure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := openTestBolt(t, "")
	if err := b.CreateDraft(ctx, dr.Draft{ID: "d"}, ""); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(ctx, "d", 0, dr.Commit{Ops: []dr.Op{testOp(1, "c", 1)}}); err != nil {
		t.Fatal(err)
	}
	release := stallWriter(t, b)
	for _, w := range b.wals {
		w.sync = func(*os.File) error { return fmt.Errorf("EIO") }
	}
	release()
	err := b.Commit(ctx, "d", 1, dr.Commit{Ops: []dr.Op{testOp(2, "c", 2)}})
	if !errors.Is(err, errWALSync) {
		t.Fatalf("commit with a failing sync: %v, want errWALSync", err)
	}
	release = stallWriter(t, b)
	for _, w := range b.wals {
		w.sync = fdatasync
	}
	release()
	if err := b.Commit(ctx, "d", 1, dr.Commit{Ops: []dr.Op{testOp(2, "c", 2)}}); err == nil {
		t.Fatal("a commit after a failed sync was acknowledged")
	}
	wantOps(t, b, "d", 1)
}

// TestWALReadsSeeLogged: a read right after a commit sees it although it
// is only in the log, and the read checkpoints it into bbolt.
func TestWALReadsSeeLogged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, err := OpenBolt(filepath.Join(t.TempDir(), "draftroom.db"), BoltOptions{CheckpointEvery: 1 << 40})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.CreateDraft(ctx, dr.Draft{ID: "d"}, ""); err != nil {
		t.Fatal(err)
	}
	for rev := 1; rev <= 3; rev++ {
		if err := b.Commit(ctx, "d", rev-1, dr.Commit{Ops: []dr.Op{testOp(rev, "c", uint64(rev))}}); err != nil {
			t.Fatal(err)
		}
	}
	if n := b.unsettled.Load(); n != 3 {
		t.Fatalf("%d commits in the log, want 3 (not yet checkpointed)", n)
	}
	wantOps(t, b, "d", 3)
	if n := b.unsettled.Load(); n != 0 {
		t.Errorf("%d commits still only in the log after a read", n)
	}
	err = b.viewNow(ctx, "test", func(tx *bolt.Tx) error {
		meta, err := readMeta(tx.Bucket(bucketDrafts).Bucket([]byte("d")), "d")
		if err == nil && meta.Rev != 3 {
			err = fmt.Errorf("bbolt head %d, want 3", meta.Rev)
		}
		return err
	})
	if err != nil {
		t.Error(err)
	}
}

// TestWALReplayInterleaved: after a crash during a checkpoint, both log
// files hold commits, the older ones possibly in either; each draft's are
// replayed in revision order whatever the files' order.
func TestWALReplayInterleaved(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "draftroom.db")
	crashWithLogged(t, path, "d", 6)
	log, err := os.ReadFile(path + walSuffixes[0])
	if err != nil {
		t.Fatal(err)
	}
	var frames [][]byte
	for off := 0; off < len(log); {
		n := 8 + int(binary.LittleEndian.Uint32(log[off:]))
		frames = append(frames, log[off:off+n])
		off += n
	}
	if len(frames) != 6 {
		t.Fatalf("%d frames in the log, want 6", len(frames))
	}
	// Revisions 4..6 in the first file, 1..3 in the second.
	if err := os.WriteFile(path+walSuffixes[0], bytes.Join(frames[3:], nil), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+walSuffixes[1], bytes.Join(frames[:3], nil), 0o600); err != nil {
		t.Fatal(err)
	}
	wantOps(t, reopen(t, path), "d", 6)
}

// TestWALCommitsDuringCheckpoint: commits keep being acknowledged while a
// checkpoint runs, every one of them is in the store afterwards, and a
// draft's head and dedupe stay right across checkpoints (each commit is
// checked against the commits still being copied).
func TestWALCommitsDuringCheckpoint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "draftroom.db")
	b, err := OpenBolt(path, BoltOptions{CheckpointOps: 3})
	if err != nil {
		t.Fatal(err)
	}
	const drafts, revs = 4, 60
	for i := range drafts {
		if err := b.CreateDraft(ctx, dr.Draft{ID: fmt.Sprint("d", i)}, ""); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for i := range drafts {
		wg.Go(func() {
			id := fmt.Sprint("d", i)
			for rev := 1; rev <= revs; rev++ {
				if err := b.Commit(ctx, id, rev-1, dr.Commit{Ops: []dr.Op{testOp(rev, "c", uint64(rev))}}); err != nil {
					t.Errorf("%s commit %d: %v", id, rev, err)
					return
				}
				if rev%7 == 0 { // a resend, across whatever checkpoint runs
					err := b.Commit(ctx, id, rev, dr.Commit{Ops: []dr.Op{testOp(rev+1, "c", uint64(rev))}})
					if !errors.Is(err, ErrDuplicate) {
						t.Errorf("%s resend of %d: %v, want ErrDuplicate", id, rev, err)
					}
				}
			}
		})
	}
	wg.Wait()
	if b.txs.Load() < 2 {
		t.Errorf("%d checkpoints, want several (CheckpointOps 3)", b.txs.Load())
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b = reopen(t, path)
	for i := range drafts {
		wantOps(t, b, fmt.Sprint("d", i), revs)
	}
}

// waitFor polls cond, a condition with no event to wait on, until it
// holds (testenv.Until).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testenv.Until(t, what, cond)
}

// TestCheckpointFailureRecovers: while checkpoints fail (a full or
// unwritable disk, injected here), every acknowledged commit stays
// readable, new commits are refused as unavailable, Health says why; once
// the disk takes writes again a retry succeeds, and the store takes
// commits again without a restart.
func TestCheckpointFailureRecovers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "draftroom.db")
	b, err := OpenBolt(path, BoltOptions{CheckpointOps: 1, CheckpointRetry: 5 * time.Millisecond, CheckpointRetryMax: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.CreateDraft(ctx, dr.Draft{ID: "d"}, ""); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(ctx, "d", 0, dr.Commit{Ops: []dr.Op{testOp(1, "c", 1)}}); err != nil {
		t.Fatal(err)
	}
	if err := b.Health(); err != nil {
		t.Fatalf("Health of a working store: %v", err)
	}
	wantOps(t, b, "d", 1) // a read: rev 1 is checkpointed
	fault := fmt.Errorf("injected: no space left on device")
	b.ckFault.Store(&fault)
	// Logged and acknowledged; their checkpoint fails.
	if err := b.Commit(ctx, "d", 1, dr.Commit{Ops: []dr.Op{testOp(2, "c", 2), testOp(3, "c", 3)}}); err != nil {
		t.Fatalf("commit 2..3: %v", err)
	}
	waitFor(t, "Health to report the failed checkpoint", func() bool { return b.Health() != nil })
	if err := b.Health(); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "no space left") {
		t.Errorf("Health: %v, want ErrUnavailable naming the cause", err)
	}
	err = b.Commit(ctx, "d", 3, dr.Commit{Ops: []dr.Op{testOp(4, "c", 4)}})
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("commit while checkpoints fail: %v, want ErrUnavailable", err)
	}
	// Reads see every acknowledged commit although bbolt lacks two.
	wantOps(t, b, "d", 3)
	if rev, err := b.SeqRev(ctx, "d", "tok:c", "c", 3, 0); err != nil || rev != 3 {
		t.Errorf("SeqRev of a commit only in the log: %d, %v; want 3", rev, err)
	}
	if ds, err := b.Drafts(ctx); err != nil || len(ds) != 1 || ds[0].Rev != 3 {
		t.Errorf("Drafts while checkpoints fail: %+v, %v; want d at rev 3", ds, err)
	}
	var inFile int
	b.viewNow(ctx, "test", func(tx *bolt.Tx) error {
		meta, err := readMeta(tx.Bucket(bucketDrafts).Bucket([]byte("d")), "d")
		inFile = meta.Rev
		return err
	})
	if inFile != 1 {
		t.Fatalf("bbolt holds rev %d, want 1: the overlay reads were not tested", inFile)
	}
	// A reader that needs the file itself to hold every commit (a backup
	// copying it) is refused rather than handed the overlay.
	if err := b.view(ctx, "backup", func(*bolt.Tx) error { return nil }); !errors.Is(err, ErrUnavailable) {
		t.Errorf("view while checkpoints fail: %v, want ErrUnavailable", err)
	}

	// The disk takes writes again: the next retry succeeds.
	b.ckFault.Store(nil)
	waitFor(t, "a checkpoint retry to succeed", func() bool { return b.Health() == nil })
	if err := b.Commit(ctx, "d", 3, dr.Commit{Ops: []dr.Op{testOp(4, "c", 4)}}); err != nil {
		t.Fatalf("commit after recovery: %v", err)
	}
	wantOps(t, b, "d", 4)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	wantOps(t, reopen(t, path), "d", 4)
}

// TestWALFullDisk: an append that the disk refuses (ENOSPC) fails as
// ErrUnavailable, the retryable kind, with the cause kept; nothing of it
// is acknowledged or kept, and once the disk has room the same commit
// goes through without a restart.
func TestWALFullDisk(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := openTestBolt(t, "")
	if err := b.CreateDraft(ctx, dr.Draft{ID: "d"}, ""); err != nil {
		t.Fatal(err)
	}
	release := stallWriter(t, b)
	for _, w := range b.wals {
		w.writeAt = func([]byte, int64) (int, error) { return 0, syscall.ENOSPC }
	}
	release()
	err := b.Commit(ctx, "d", 0, dr.Commit{Ops: []dr.Op{testOp(1, "c", 1)}})
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("commit on a full disk: %v, want ErrUnavailable wrapping ENOSPC", err)
	}
	wantOps(t, b, "d", 0)
	release = stallWriter(t, b)
	for _, w := range b.wals {
		w.writeAt = w.f.WriteAt
	}
	release()
	if err := b.Commit(ctx, "d", 0, dr.Commit{Ops: []dr.Op{testOp(1, "c", 1)}}); err != nil {
		t.Fatalf("commit once the disk has room: %v", err)
	}
	wantOps(t, b, "d", 1)
}
