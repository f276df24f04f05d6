package server

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/storage"
)

// BenchmarkOwnerCommitBatch measures the owner's work for one batch of
// submissions, one per subscribed client, without goroutines or a disk:
// the benchmark itself is the owner (the draft is loaded but not run) and
// commits to the memory store. One op of the benchmark is one batch; its
// allocations are the commit path's own (staging, commit, acks, fan-out,
// observers), steady from run to run, unlike BenchmarkSubmit's, which
// vary with how the 20 submitters happen to batch. Each client replaces
// a letter of its own, so the text and the observers' work stay the same
// from batch to batch.
//
//	go test -run '^$' -bench OwnerCommitBatch -benchmem ./server
func BenchmarkOwnerCommitBatch(b *testing.B) {
	for _, n := range []int{1, 20} {
		b.Run(fmt.Sprintf("ops=%d", n), func(b *testing.B) {
			ctx := context.Background()
			store := storage.NewMemory()
			if err := store.CreateDraft(ctx, dr.Draft{ID: "d", Title: "d"}, "Article 1. "+strings.Repeat("The Parties shall cooperate. ", 4)+"\n"); err != nil {
				b.Fatal(err)
			}
			s := New(Config{Open: true}, store, nil)
			defer s.Shutdown(ctx)
			d := newDraft(s, "d")
			if err := d.load(); err != nil {
				b.Fatal(err)
			}
			sessions := make([]*Session, n)
			reqs := make([]submitReq, n)
			for i := range sessions {
				ident, err := OpenAuth{}.Hello(ctx, Hello{Delegation: fmt.Sprintf("D%d", i), Name: "B", Role: dr.RoleDrafter})
				if err != nil {
					b.Fatal(err)
				}
				c := newFakeSession(s, ident, fmt.Sprintf("c%d", i))
				reply := make(chan error, 1)
				if err := d.open(&openReq{sess: c, client: c.client, principal: ident.Principal, by: ident.Author, reply: reply}); err != nil {
					b.Fatal(err)
				}
				sessions[i] = c
				reqs[i] = submitReq{sess: c, ident: ident, client: c.client, op: ot.Op{ot.Skip(11 + i), ot.Delete(1), ot.Insert("a")}}
			}
			batch := make([]any, n)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for j := range reqs {
					reqs[j].rev, reqs[j].seq = d.rev, uint64(i+1)
					r := reqs[j]
					batch[j] = &r
				}
				d.cork()
				d.commitBatch(batch)
				d.uncork()
				for _, c := range sessions {
					c.send.take()
				}
			}
			b.StopTimer()
			if want := b.N * n; d.rev != want {
				b.Fatalf("draft at rev %d after %d batches of %d, want %d", d.rev, b.N, n, want)
			}
		})
	}
}
