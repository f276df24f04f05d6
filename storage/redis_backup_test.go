package storage_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/internal/redistest"
	"github.com/draftroom/draftroom/internal/testenv"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/storage"
)

// TestRedisRestoreFromRDB follows docs/OPERATIONS.md's Redis backup: while
// writers commit, BGSAVE writes an RDB snapshot; the copy of dump.rdb,
// loaded by a fresh redis-server, holds every op acknowledged before
// BGSAVE was asked for, at its revision, and the restored store accepts
// commits.
func TestRedisRestoreFromRDB(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := redistest.Start(t)
	st, err := storage.OpenRedisURL(src.URL(), storage.RedisOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const writers = 8
	for w := range writers {
		if err := st.CreateDraft(ctx, dr.Draft{ID: fmt.Sprintf("d%d", w)}, ""); err != nil {
			t.Fatal(err)
		}
	}
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
				op := dr.Op{Rev: rev, Client: "c", Seq: uint64(rev), Principal: "p", Op: ot.Op{ot.Insert("x")}}
				if err := st.Commit(ctx, id, rev-1, dr.Commit{Ops: []dr.Op{op}}); err != nil {
					t.Errorf("commit %s@%d: %v", id, rev, err)
					return
				}
				mu.Lock()
				acked[w] = rev
				mu.Unlock()
			}
		})
	}
	lowest := func() int {
		mu.Lock()
		defer mu.Unlock()
		return slices.Min(acked)
	}
	testenv.Until(t, "every writer to have 50 commits", func() bool { return lowest() >= 50 })
	mu.Lock()
	before := append([]int(nil), acked...)
	mu.Unlock()

	admin := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", src.Port)})
	defer admin.Close()
	if err := admin.BgSave(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	// BGSAVE answers at once; the snapshot (of the data as it was when
	// BGSAVE was asked for) is written when rdb_saves counts it.
	testenv.Until(t, "BGSAVE to finish", func() bool {
		info, err := admin.Info(ctx, "persistence").Result()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(info, "rdb_saves:1\r\n") && strings.Contains(info, "rdb_bgsave_in_progress:0\r\n") {
			if !strings.Contains(info, "rdb_last_bgsave_status:ok") {
				t.Fatalf("BGSAVE failed: %s", info)
			}
			return true
		}
		return false
	})
	dump, err := os.ReadFile(filepath.Join(src.Dir, "dump.rdb"))
	if err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()

	// Restore: the RDB copy in a fresh directory, loaded with the
	// append-only file off (Redis loads the AOF instead of the RDB when it
	// is on), as docs/OPERATIONS.md says.
	dst := redistest.New(t, "--appendonly", "no")
	if err := os.WriteFile(filepath.Join(dst.Dir, "dump.rdb"), dump, 0o600); err != nil {
		t.Fatal(err)
	}
	dst.Start()
	restored, err := storage.OpenRedisURL(dst.URL(), storage.RedisOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	for w := range writers {
		id := fmt.Sprintf("d%d", w)
		d, err := restored.Draft(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if d.Rev < before[w] {
			t.Errorf("%s restored at rev %d, but %d were acked before BGSAVE", id, d.Rev, before[w])
		}
		ops, err := restored.Ops(ctx, id, 1, d.Rev)
		if err != nil || len(ops) != d.Rev {
			t.Fatalf("%s: %d ops for rev %d: %v", id, len(ops), d.Rev, err)
		}
		for i, op := range ops {
			if op.Rev != i+1 || op.Seq != uint64(i+1) {
				t.Fatalf("%s: op %d is %+v", id, i+1, op)
			}
		}
		op := dr.Op{Rev: d.Rev + 1, Client: "after", Seq: 1, Principal: "p", Op: ot.Op{ot.Insert("y")}}
		if err := restored.Commit(ctx, id, d.Rev, dr.Commit{Ops: []dr.Op{op}}); err != nil {
			t.Errorf("commit to the restored %s: %v", id, err)
		}
	}
}
