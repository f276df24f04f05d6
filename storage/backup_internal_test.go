package storage

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/internal/testenv"
	"github.com/draftroom/draftroom/ot"
)

// TestBackupUnderLoad: writers commit while backups are taken; each
// backup, restored into a fresh directory, holds every op acknowledged
// before it began, at its revision, passes VerifyBolt and accepts commits.
func TestBackupUnderLoad(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := openTestBolt(t, "")
	const writers = 8
	for w := range writers {
		if err := b.CreateDraft(ctx, dr.Draft{ID: fmt.Sprintf("d%d", w)}, "start "); err != nil {
			t.Fatal(err)
		}
	}
	// acked[w] is the head of draft d<w> as acknowledged so far.
	var mu sync.Mutex
	acked := make([]int, writers)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			id := fmt.Sprintf("d%d", w)
			for rev := 1; ; rev++ {
				select {
				case <-stop:
					return
				default:
				}
				c := dr.Commit{Ops: []dr.Op{testOp(rev, "c", uint64(rev))}}
				if rev%10 == 0 {
					c.Proposals = []dr.Proposal{{Draft: id, Group: "g", Text: "alt", Rev: rev}}
				}
				if err := b.Commit(ctx, id, rev-1, c); err != nil {
					t.Errorf("commit %s@%d: %v", id, rev, err)
					return
				}
				mu.Lock()
				acked[w] = rev
				mu.Unlock()
			}
		})
	}
	waitFor := func(least int) {
		testenv.Until(t, fmt.Sprintf("every writer to have %d ops acked", least), func() bool {
			mu.Lock()
			defer mu.Unlock()
			return slices.Min(acked) >= least
		})
	}
	var copies [][]byte
	var before [][]int
	for round := 1; round <= 3; round++ {
		waitFor(round * 50)
		mu.Lock()
		before = append(before, append([]int(nil), acked...))
		mu.Unlock()
		var buf bytes.Buffer
		if _, err := b.Backup(ctx, &buf); err != nil {
			t.Fatalf("backup: %v", err)
		}
		copies = append(copies, buf.Bytes())
	}
	close(stop)
	wg.Wait()

	for i, data := range copies {
		dir := t.TempDir()
		path := filepath.Join(dir, "draftroom.db")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		rep, err := VerifyBolt(path)
		if err != nil {
			t.Fatalf("backup %d: verify: %v %v", i, err, rep.Problems)
		}
		if rep.Drafts != writers {
			t.Errorf("backup %d: %d drafts, want %d", i, rep.Drafts, writers)
		}
		r := openTestBolt(t, path)
		for w := range writers {
			id := fmt.Sprintf("d%d", w)
			d, err := r.Draft(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if d.Rev < before[i][w] {
				t.Errorf("backup %d: %s at rev %d, but %d were acked before it began", i, id, d.Rev, before[i][w])
			}
			ops, err := r.Ops(ctx, id, 1, before[i][w])
			if err != nil {
				t.Fatal(err)
			}
			for j, op := range ops {
				if want := testOp(j+1, "c", uint64(j+1)); op.Rev != want.Rev || op.Seq != want.Seq || !reflect.DeepEqual(op.Op, want.Op) {
					t.Fatalf("backup %d: %s op %d is %+v, want %+v", i, id, j+1, op, want)
				}
			}
			if len(ops) != before[i][w] {
				t.Errorf("backup %d: %s holds %d ops of the %d acked", i, id, len(ops), before[i][w])
			}
			if err := r.Commit(ctx, id, d.Rev, dr.Commit{Ops: []dr.Op{testOp(d.Rev+1, "after", 1)}}); err != nil {
				t.Errorf("backup %d: commit to the restored %s: %v", i, id, err)
			}
		}
	}
}

// TestBackupFileFailureLeavesNothing: a backup that fails (here, its
// context is done) leaves neither the final name nor a temporary file.
func TestBackupFileFailureLeavesNothing(t *testing.T) {
	t.Parallel()
	b := openTestBolt(t, "")
	if err := b.CreateDraft(context.Background(), dr.Draft{ID: "d"}, "x"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	path := filepath.Join(dir, BackupName(time.Now()))
	if _, err := b.BackupFile(ctx, path); !errors.Is(err, context.Canceled) {
		t.Fatalf("BackupFile with a done context: %v, want context.Canceled", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("a failed backup left %v", ents)
	}
	if _, err := b.BackupFile(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	if rep, err := VerifyBolt(path); err != nil || rep.Drafts != 1 {
		t.Errorf("the backup: %+v, %v", rep, err)
	}
}

func TestPruneBackups(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	var names []string
	for i := range 5 {
		n := BackupName(now.Add(time.Duration(i-5) * time.Hour))
		names = append(names, n)
		os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o600)
	}
	oldTemp := filepath.Join(dir, names[0]+BackupTemp+"123")
	newTemp := filepath.Join(dir, names[4]+BackupTemp+"456")
	other := filepath.Join(dir, "notes.txt")
	for _, p := range []string{oldTemp, newTemp, other} {
		os.WriteFile(p, []byte("x"), 0o600)
	}
	os.Chtimes(oldTemp, now.Add(-2*time.Hour), now.Add(-2*time.Hour))
	os.Chtimes(newTemp, now, now)
	removed, err := PruneBackups(dir, 2, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Base(oldTemp), names[0], names[1], names[2]}
	if strings.Join(removed, ",") != strings.Join(want, ",") {
		t.Errorf("removed %v, want %v", removed, want)
	}
	for _, p := range []string{newTemp, other, filepath.Join(dir, names[3]), filepath.Join(dir, names[4])} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s: %v (should be kept)", filepath.Base(p), err)
		}
	}
}

// damagedStore writes a draft with 12 ops, a snapshot at 10, a proposal
// at 5 and a label at 8, closes it and then lets damage change the file
// directly.
func damagedStore(t *testing.T, damage func(db *bolt.Bucket) error) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "draftroom.db")
	b, err := OpenBolt(path, BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.CreateDraft(ctx, dr.Draft{ID: "art-1"}, "The Parties "); err != nil {
		t.Fatal(err)
	}
	text := "The Parties "
	for rev := 1; rev <= 12; rev++ {
		op := testOp(rev, "c", uint64(rev))
		c := dr.Commit{Ops: []dr.Op{op}}
		if rev == 5 {
			c.Proposals = []dr.Proposal{{Draft: "art-1", Group: "g", Text: "shall", Rev: 5}}
		}
		next, err := applyText(text, op)
		if err != nil {
			t.Fatal(err)
		}
		text = next
		if rev == 10 {
			c.Snapshots = []dr.Snapshot{{Rev: 10, Text: text}}
		}
		if err := b.Commit(ctx, "art-1", rev-1, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.PutLabel(ctx, dr.Label{Draft: "art-1", Name: "chair", Rev: 8}); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if damage != nil {
		db, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Update(func(tx *bolt.Tx) error {
			return damage(tx.Bucket(bucketDrafts).Bucket([]byte("art-1")))
		}); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	return path
}

func applyText(text string, op dr.Op) (string, error) { return ot.Apply(text, op.Op) }

// TestVerifyBolt: a sound file passes; each kind of damage is named.
func TestVerifyBolt(t *testing.T) {
	t.Parallel()
	rep, err := VerifyBolt(damagedStore(t, nil))
	if err != nil {
		t.Fatalf("sound store: %v %v", err, rep.Problems)
	}
	if rep.Drafts != 1 || rep.Ops != 12 {
		t.Errorf("sound store: %+v, want 1 draft, 12 ops", rep)
	}
	cases := []struct {
		name   string
		damage func(db *bolt.Bucket) error
		want   string
	}{
		{"missing op", func(db *bolt.Bucket) error { return db.Bucket(bucketOps).Delete(revKey(4)) }, "draft art-1: ops 4..4 are missing"},
		{"op missing at the end", func(db *bolt.Bucket) error { return db.Bucket(bucketOps).Delete(revKey(12)) }, "ops 12..12 are missing (the metadata says the head is 12)"},
		{"op garbled", func(db *bolt.Bucket) error { return db.Bucket(bucketOps).Put(revKey(3), []byte{0xff, 0xff}) }, "op 3 does not decode"},
		{"op does not apply", func(db *bolt.Bucket) error {
			return db.Bucket(bucketOps).Put(revKey(2), appendOpRecord(nil, dr.Op{Rev: 2, Client: "c", Seq: 2, Op: ot.Op{{Skip: 9999}, {Insert: "x"}}}))
		}, "op 2 does not apply to the text of revision 1"},
		{"snapshot differs", func(db *bolt.Bucket) error {
			return db.Bucket(bucketSnaps).Put(revKey(10), appendSnapshotRecord(nil, dr.Snapshot{Rev: 10, Text: "tampered"}))
		}, "snapshot 10 does not match the text its ops replay to"},
		{"proposal past head", func(db *bolt.Bucket) error {
			return db.Bucket(bucketProps).Put(recordKey(40, 0), []byte(`{"draft":"art-1","rev":40}`))
		}, "proposal at revision 40 (recorded as 40) does not point at a committed op (1..12)"},
		{"label past head", func(db *bolt.Bucket) error {
			v, _ := json.Marshal(dr.Label{Draft: "art-1", Name: "late", Rev: 99})
			return db.Bucket(bucketLabel).Put([]byte("late"), v)
		}, `label "late" names revision 99, past the head 12`},
		{"meta head ahead", func(db *bolt.Bucket) error {
			v, _ := json.Marshal(dr.Draft{ID: "art-1", Rev: 15})
			return db.Put(keyMeta, v)
		}, "ops 13..15 are missing (the metadata says the head is 15)"},
		{"no snapshot 0", func(db *bolt.Bucket) error { return db.Bucket(bucketSnaps).Delete(revKey(0)) }, "no snapshot of revision 0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := VerifyBolt(damagedStore(t, tc.damage))
			if !errors.Is(err, ErrDamaged) {
				t.Fatalf("err %v, want ErrDamaged", err)
			}
			var got []string
			for _, p := range rep.Problems {
				got = append(got, p.String())
			}
			if !strings.Contains(strings.Join(got, "\n"), tc.want) {
				t.Errorf("problems:\n%s\nwant one containing %q", strings.Join(got, "\n"), tc.want)
			}
		})
	}
}

// The interrupted-backup test runs a child process (this test binary
// again) that takes a periodic backup (BackupSchedule.Once) and stops
// writing it halfway, saying so; the parent kills it with SIGKILL there
// and checks that no file has a backup's final name, and that the
// leftover temporary file is pruned later.
const backupKillEnv = "DRAFTROOM_BACKUP_KILL_DIR"

func TestBackupKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process; skipped with -short")
	}
	dir := t.TempDir()
	backups := filepath.Join(dir, "backups")
	cmd := exec.Command(os.Args[0], "-test.run=^TestBackupKill9Child$", "-test.v")
	cmd.Env = append(os.Environ(), backupKillEnv+"="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	midWrite := false
	for !midWrite && lines.Scan() {
		midWrite = lines.Text() == "mid-write"
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if !midWrite {
		t.Fatalf("the child never reached the middle of its backup: %v", lines.Err())
	}
	ents, err := os.ReadDir(backups)
	if err != nil {
		t.Fatal(err)
	}
	var partial []string
	for _, e := range ents {
		if !strings.Contains(e.Name(), BackupTemp) {
			t.Errorf("%s is under a final name after kill -9 mid-write", e.Name())
			continue
		}
		info, _ := e.Info()
		if info.Size() == 0 {
			t.Errorf("temporary file %s is empty: the child was not mid-write", e.Name())
		}
		partial = append(partial, e.Name())
	}
	if len(partial) != 1 {
		t.Fatalf("temporary files %v, want the one interrupted", partial)
	}
	removed, err := PruneBackups(backups, 48, time.Now().Add(2*time.Hour))
	if err != nil || len(removed) != 1 || removed[0] != partial[0] {
		t.Errorf("pruning later removed %v (%v), want %v", removed, err, partial)
	}
}

// TestBackupKill9Child is the child of TestBackupKill9; it does nothing in
// an ordinary run.
func TestBackupKill9Child(t *testing.T) {
	dir := os.Getenv(backupKillEnv)
	if dir == "" {
		t.Skip("only runs as the child of TestBackupKill9")
	}
	ctx := context.Background()
	b, err := OpenBolt(filepath.Join(dir, "draftroom.db"), BoltOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.CreateDraft(ctx, dr.Draft{ID: "d"}, strings.Repeat("treaty text ", 100_000)); err != nil {
		t.Fatal(err)
	}
	backupWriter = func(f *os.File) io.Writer { return &stallingWriter{f: f, after: 256 << 10} }
	s := &BackupSchedule{Store: b, Dir: filepath.Join(dir, "backups"), Every: time.Hour, Keep: 48}
	os.MkdirAll(s.Dir, 0o700)
	s.Once(ctx) // never returns: the parent kills the process mid-write
	t.Fatal("the backup finished")
}

// stallingWriter writes through to f until after bytes were written, then
// says "mid-write" on stdout and blocks forever.
type stallingWriter struct {
	f     *os.File
	after int
	n     int
}

func (w *stallingWriter) Write(p []byte) (int, error) {
	if w.n >= w.after {
		fmt.Println("mid-write")
		select {}
	}
	n, err := w.f.Write(p)
	w.n += n
	return n, err
}

// TestBackupSchedule: Run takes a backup every tick and keeps the newest
// Keep; a failure is recorded in the status, and the next success clears
// it.
func TestBackupSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := openTestBolt(t, "")
		if err := b.CreateDraft(context.Background(), dr.Draft{ID: "d"}, "x"); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		var mu sync.Mutex
		clock := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
		now := func() time.Time { // an hour passes at each call: distinct names
			mu.Lock()
			defer mu.Unlock()
			clock = clock.Add(time.Hour)
			return clock
		}
		s := &BackupSchedule{Store: b, Dir: filepath.Join(dir, "missing"), Every: time.Hour, Keep: 2, Now: now}
		if _, err := s.Once(context.Background()); err == nil {
			t.Fatal("a backup into a missing directory succeeded")
		}
		if st := s.BackupStatus(); st.LastError == "" || st.Failures != 1 || !st.LastOK.IsZero() {
			t.Fatalf("status after a failure: %+v", st)
		}
		s.Dir = dir
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); s.Run(ctx) }()
		seen := map[string]bool{}
		for tick := range 4 {
			synctest.Wait() // this tick's backup is taken; Run waits for the next
			f := s.BackupStatus().LastFile
			if f == "" || seen[f] {
				t.Fatalf("tick %d: last backup %q, want a new one (had %v)", tick, f, seen)
			}
			seen[f] = true
			time.Sleep(s.Every) // the bubble's clock: to the next tick, at once
		}
		cancel()
		<-done
		st := s.BackupStatus()
		if st.LastError != "" || st.Failures != 0 || st.LastBytes == 0 {
			t.Errorf("status after successes: %+v", st)
		}
		ents, _ := os.ReadDir(dir)
		if len(ents) != 2 {
			t.Errorf("%d files kept, want 2 (-backup-keep)", len(ents))
		}
		for _, e := range ents {
			if rep, err := VerifyBolt(filepath.Join(dir, e.Name())); err != nil || rep.Drafts != 1 {
				t.Errorf("%s: %+v %v", e.Name(), rep, err)
			}
		}
	})
}

// TestBackupDueAtStart: a schedule starting on a directory whose newest
// backup is older than Every (or that has none) takes one at once.
func TestBackupDueAtStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	s := &BackupSchedule{Dir: dir, Every: time.Hour, Now: func() time.Time { return now }}
	if !s.due() {
		t.Error("no backup yet: not due")
	}
	for _, name := range []string{BackupName(now.Add(-3 * time.Hour)), BackupName(now.Add(-90*time.Minute)) + BackupTemp + "1", "draftroom-garbage.db"} {
		os.WriteFile(filepath.Join(dir, name), nil, 0o600)
	}
	if !s.due() {
		t.Error("newest backup 3h old, every 1h: not due")
	}
	os.WriteFile(filepath.Join(dir, BackupName(now.Add(-20*time.Minute))), nil, 0o600)
	if s.due() {
		t.Error("newest backup 20m old, every 1h: due")
	}
	if last, ok := LatestBackup(dir); !ok || !last.Equal(now.Add(-20*time.Minute)) {
		t.Errorf("LatestBackup %v %v", last, ok)
	}
}
