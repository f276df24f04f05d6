package storage

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/draftroom/draftroom/dr"
)

// fileLimitEnv tells the child process of TestCheckpointFileTooLarge to
// run the test (it lowers the process-wide file size limit, so it runs
// alone in a process of its own).
const fileLimitEnv = "DRAFTROOM_TEST_FSIZE_CHILD"

// TestCheckpointFileTooLarge: the stuck checkpoint with a real fault, no
// hook. The bbolt file is made unable to grow (RLIMIT_FSIZE at its size:
// writes past it fail with EFBIG, as on a full disk); commits are then
// logged and acknowledged until a checkpoint fails; every acknowledged
// commit stays readable, new ones are refused as unavailable, Health says
// why; the limit is lifted (the disk has room again) and the store takes
// commits again by itself.
func TestCheckpointFileTooLarge(t *testing.T) {
	if os.Getenv(fileLimitEnv) == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCheckpointFileTooLarge$", "-test.v")
		cmd.Env = append(os.Environ(), fileLimitEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestCheckpointFileTooLarge") {
			t.Fatalf("child: %v\n%s", err, out)
		}
		return
	}
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
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	limit := syscall.Rlimit{Cur: uint64(st.Size()), Max: old.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &limit); err != nil {
		t.Skipf("cannot lower RLIMIT_FSIZE: %v", err)
	}
	// Each commit is logged (the log files are small) and acknowledged;
	// sooner or later the file must grow for a checkpoint, and cannot.
	text := strings.Repeat("x", 2000)
	rev := 0
	for b.Health() == nil {
		if rev == 200 {
			t.Fatalf("no checkpoint failed after %d commits (file %d bytes)", rev, st.Size())
		}
		op := testOp(rev+1, "c", uint64(rev+1))
		op.Op[1].Insert = text
		if err := b.Commit(ctx, "d", rev, dr.Commit{Ops: []dr.Op{op}}); err != nil {
			if errors.Is(err, ErrUnavailable) && b.Health() != nil {
				break // refused: the checkpoint had failed already
			}
			t.Fatalf("commit %d: %v", rev+1, err)
		}
		rev++
		waitFor(t, "the checkpoint to end", func() bool { return b.unsettled.Load() == 0 || b.Health() != nil })
	}
	health := b.Health()
	if !errors.Is(health, ErrUnavailable) || !strings.Contains(health.Error(), "file too large") || strings.Contains(health.Error(), filepath.Dir(path)) {
		t.Errorf("Health: %v, want ErrUnavailable saying file too large, naming no directory", health)
	}
	if err := b.Commit(ctx, "d", rev, dr.Commit{Ops: []dr.Op{testOp(rev+1, "c", uint64(rev+1))}}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("commit while the file cannot grow: %v, want ErrUnavailable", err)
	}
	wantOps(t, b, "d", rev)

	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a checkpoint retry to succeed", func() bool { return b.Health() == nil })
	if err := b.Commit(ctx, "d", rev, dr.Commit{Ops: []dr.Op{testOp(rev+1, "c", uint64(rev+1))}}); err != nil {
		t.Fatalf("commit once the file can grow: %v", err)
	}
	wantOps(t, b, "d", rev+1)
	t.Logf("%d commits acknowledged; the checkpoint failed with %v; recovered", rev, health)
}
