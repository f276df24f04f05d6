package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
)

// reportCommits reports throughput, and how many bbolt transactions and
// fsyncs each op cost (bbolt syncs twice per transaction, pages then meta
// page; a log append syncs once).
func reportCommits(b *testing.B, s *Bolt, elapsed time.Duration, txsBefore, appendsBefore int64) {
	txs := float64(s.txs.Load() - txsBefore)
	appends := float64(s.appends.Load() - appendsBefore)
	n := float64(b.N)
	b.ReportMetric(n/elapsed.Seconds(), "ops/s")
	b.ReportMetric(txs/n, "txs/op")
	b.ReportMetric((2*txs+appends)/n, "fsyncs/op")
}

// benchOp is a typical edit: a few words typed somewhere in an article.
func benchOp(rev int, client string, seq uint64) dr.Op {
	return dr.Op{
		Rev: rev, Client: client, Seq: seq, Principal: "tok:" + client,
		By: dr.Author{Delegation: "CAN", Name: "Ana"}, TS: 1_795_000_000_000 + int64(rev),
		Op: ot.Op{{Skip: 1200 + rev%300}, {Insert: "shall endeavour "}, {Delete: 4, Deleted: "may "}},
	}
}

// BenchmarkBoltCommit measures single-op commits with fsync on, through
// the write-ahead log (wal) and straight into bbolt (nowal):
//
//	1writer          one goroutine, one draft, commit after commit
//	Nwriters/drafts N goroutines (20, 200), each on its own draft
//	20writers/draft  20 goroutines on one draft, each commit on the head
//	                 the previous one makes (as a server's owner would
//	                 pipeline them), so none conflicts
func BenchmarkBoltCommit(b *testing.B) {
	for _, mode := range []string{"wal", "nowal"} {
		b.Run(mode, func(b *testing.B) { benchCommit(b, BoltOptions{NoWAL: mode == "nowal"}) })
	}
}

func benchCommit(b *testing.B, opts BoltOptions) {
	ctx := context.Background()
	open := func(b *testing.B, drafts int) *Bolt {
		s, err := OpenBolt(filepath.Join(b.TempDir(), "draftroom.db"), opts)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		for i := range drafts {
			if err := s.CreateDraft(ctx, dr.Draft{ID: fmt.Sprintf("d%d", i)}, ""); err != nil {
				b.Fatal(err)
			}
		}
		return s
	}
	b.Run("1writer", func(b *testing.B) {
		s := open(b, 1)
		txs, appends := s.txs.Load(), s.appends.Load()
		start := time.Now()
		for i := range b.N {
			if err := s.Commit(ctx, "d0", i, dr.Commit{Ops: []dr.Op{benchOp(i+1, "c", uint64(i+1))}}); err != nil {
				b.Fatal(err)
			}
		}
		reportCommits(b, s, time.Since(start), txs, appends)
	})
	for _, writers := range []int{20, 200} {
		b.Run(fmt.Sprintf("%dwriters/drafts", writers), func(b *testing.B) { benchDrafts(b, open(b, writers), writers) })
	}
	b.Run("20writers/draft", func(b *testing.B) {
		const writers = 20
		s := open(b, 1)
		var mu sync.Mutex // orders rev assignment with submission
		head := 0
		txs, appends := s.txs.Load(), s.appends.Load()
		start := time.Now()
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				client := fmt.Sprintf("w%d", w)
				for seq := uint64(1); ; seq++ {
					mu.Lock()
					if head == b.N {
						mu.Unlock()
						return
					}
					head++
					done, err := s.submitCommit(ctx, "d0", head-1, dr.Commit{Ops: []dr.Op{benchOp(head, client, seq)}})
					mu.Unlock()
					if err == nil {
						err = <-done
					}
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		reportCommits(b, s, time.Since(start), txs, appends)
	})
}

// benchDrafts runs b.N single-op commits from writers goroutines, each on
// its own draft d0, d1, ...
func benchDrafts(b *testing.B, s *Bolt, writers int) {
	ctx := context.Background()
	var next atomic.Int64
	txs, appends := s.txs.Load(), s.appends.Load()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			id := fmt.Sprintf("d%d", w)
			for rev := 1; next.Add(1) <= int64(b.N); rev++ {
				if err := s.Commit(ctx, id, rev-1, dr.Commit{Ops: []dr.Op{benchOp(rev, "c", uint64(rev))}}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	reportCommits(b, s, time.Since(start), txs, appends)
}

// fillDraft commits n ops on draft d0 in batches, with a snapshot every
// 256 revisions.
func fillDraft(b *testing.B, s *Bolt, n int) {
	ctx := context.Background()
	if err := s.CreateDraft(ctx, dr.Draft{ID: "d0"}, "initial"); err != nil {
		b.Fatal(err)
	}
	const batch = 256
	for base := 0; base < n; base += batch {
		c := dr.Commit{}
		for rev := base + 1; rev <= base+batch; rev++ {
			c.Ops = append(c.Ops, benchOp(rev, "c", uint64(rev)))
		}
		c.Snapshots = []dr.Snapshot{{Rev: base + batch, Text: fmt.Sprintf("%0*d", 20_000, base+batch), Meta: map[string]json.RawMessage{"authors": json.RawMessage(`{"CAN":[0,20000]}`)}}}
		if err := s.Commit(ctx, "d0", base, c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBoltOps reads a random range of 256 ops from a log of 16384.
func BenchmarkBoltOps(b *testing.B) {
	ctx := context.Background()
	s := openTestBolt(b, "")
	const n = 16384
	fillDraft(b, s, n)
	rng := rand.New(rand.NewPCG(1, 2))
	b.ResetTimer()
	for range b.N {
		from := 1 + rng.IntN(n-255)
		ops, err := s.Ops(ctx, "d0", from, from+255)
		if err != nil || len(ops) != 256 {
			b.Fatalf("Ops: %d, %v", len(ops), err)
		}
	}
	b.ReportMetric(float64(b.N*256)/b.Elapsed().Seconds(), "ops-read/s")
}

// BenchmarkBoltSnapshot looks up the snapshot at or before a random
// revision of a 16384-op draft (64 snapshots of 20 kB).
func BenchmarkBoltSnapshot(b *testing.B) {
	ctx := context.Background()
	s := openTestBolt(b, "")
	const n = 16384
	fillDraft(b, s, n)
	rng := rand.New(rand.NewPCG(3, 4))
	b.ResetTimer()
	for range b.N {
		rev := rng.IntN(n + 1)
		snap, err := s.Snapshot(ctx, "d0", rev)
		if err != nil || snap.Rev > rev || rev-snap.Rev >= 256 {
			b.Fatalf("Snapshot(%d): rev %d, %v", rev, snap.Rev, err)
		}
	}
}

// BenchmarkOpRecord compares the op record encoding with JSON.
func BenchmarkOpRecord(b *testing.B) {
	op := benchOp(1234, "c-7f3a", 99)
	b.Run("encode", func(b *testing.B) {
		buf := make([]byte, 0, 256)
		for range b.N {
			buf = appendOpRecord(buf[:0], op)
		}
	})
	b.Run("decode", func(b *testing.B) {
		rec := appendOpRecord(nil, op)
		for range b.N {
			if _, err := decodeOpRecord(1234, rec); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json-encode", func(b *testing.B) {
		for range b.N {
			if _, err := json.Marshal(op); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json-decode", func(b *testing.B) {
		data, err := json.Marshal(op)
		if err != nil {
			b.Fatal(err)
		}
		for range b.N {
			var got dr.Op
			if err := json.Unmarshal(data, &got); err != nil {
				b.Fatal(err)
			}
		}
	})
}
