package storage_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/storage"
	"github.com/draftroom/draftroom/storage/storagetest"
)

func openBolt(t *testing.T) *storage.Bolt {
	t.Helper()
	b, err := storage.OpenBolt(filepath.Join(t.TempDir(), "data", "draftroom.db"), storage.BoltOptions{})
	if err != nil {
		t.Fatalf("OpenBolt: %v", err)
	}
	return b
}

// restoreBolt opens a backup's copy as the embedded store, as an operator
// restores one: saved as draftroom.db in an empty directory.
func restoreBolt(t *testing.T, copy []byte) dr.Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "draftroom.db")
	if err := os.WriteFile(path, copy, 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := storage.OpenBolt(path, storage.BoltOptions{})
	if err != nil {
		t.Fatalf("OpenBolt of the backup: %v", err)
	}
	return b
}

func TestBolt(t *testing.T) {
	t.Parallel()
	storagetest.RunWithBackups(t, func(t *testing.T) dr.Store { return openBolt(t) }, restoreBolt)
}

// TestBoltNoWAL runs the contract against commits made straight into the
// bbolt file (BoltOptions.NoWAL), and against a log checkpointed after
// every commit batch, the two extremes of the write-ahead log's timing.
func TestBoltNoWAL(t *testing.T) {
	t.Parallel()
	for name, opts := range map[string]storage.BoltOptions{
		"nowal":            {NoWAL: true},
		"checkpoint-often": {CheckpointOps: 1},
	} {
		t.Run(name, func(t *testing.T) {
			storagetest.RunWithBackups(t, func(t *testing.T) dr.Store {
				b, err := storage.OpenBolt(filepath.Join(t.TempDir(), "draftroom.db"), opts)
				if err != nil {
					t.Fatalf("OpenBolt: %v", err)
				}
				return b
			}, restoreBolt)
		})
	}
}

// TestCanceledContext: a write whose context is already done is refused
// with the context's error and writes nothing, in both local stores.
func TestCanceledContext(t *testing.T) {
	t.Parallel()
	stores := map[string]dr.Store{"memory": storage.NewMemory(), "bolt": openBolt(t)}
	for name, s := range stores {
		t.Run(name, func(t *testing.T) {
			defer s.Close()
			ctx := context.Background()
			if err := s.CreateDraft(ctx, dr.Draft{ID: "d"}, ""); err != nil {
				t.Fatal(err)
			}
			done, cancel := context.WithCancel(ctx)
			cancel()
			op := dr.Op{Rev: 1, Op: ot.Op{{Insert: "x"}}, Client: "c", Seq: 1}
			if err := s.Commit(done, "d", 0, dr.Commit{Ops: []dr.Op{op}}); !errors.Is(err, context.Canceled) {
				t.Errorf("Commit with a canceled context: %v, want context.Canceled", err)
			}
			if err := s.CreateDraft(done, dr.Draft{ID: "e"}, ""); !errors.Is(err, context.Canceled) {
				t.Errorf("CreateDraft with a canceled context: %v, want context.Canceled", err)
			}
			if d, err := s.Draft(ctx, "d"); err != nil || d.Rev != 0 {
				t.Errorf("after a canceled Commit: %+v, %v; want rev 0", d, err)
			}
			if _, err := s.Draft(ctx, "e"); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("a canceled CreateDraft created the draft: %v", err)
			}
		})
	}
}
