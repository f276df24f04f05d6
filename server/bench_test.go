package server

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/storage"
)

// BenchmarkSubmit measures committed ops per second through one draft's
// owner with the durable Bolt store (fsync on): 20 submitters, each with one
// op in flight, sending the next as soon as its ack arrives.
func BenchmarkSubmit(b *testing.B) {
	for _, nosync := range []bool{false, true} {
		name := "bolt-fsync"
		if nosync {
			name = "bolt-nosync"
		}
		b.Run(name, func(b *testing.B) {
			store, err := storage.OpenBolt(filepath.Join(b.TempDir(), "bench.db"), storage.BoltOptions{NoSync: nosync})
			if err != nil {
				b.Fatal(err)
			}
			defer store.Close()
			if err := store.CreateDraft(context.Background(), dr.Draft{ID: "d"}, "Article 1."); err != nil {
				b.Fatal(err)
			}
			s := New(Config{Open: true}, store, nil)
			defer s.Shutdown(context.Background())
			const submitters = 20
			type sub struct {
				c     *Session
				d     *draft
				ident dr.Identity
			}
			subs := make([]sub, submitters)
			for i := range subs {
				ident, _ := OpenAuth{}.Hello(context.Background(), Hello{Delegation: fmt.Sprintf("D%d", i), Name: "B", Role: dr.RoleDrafter})
				c := newFakeSession(s, ident, fmt.Sprintf("b%d", i))
				d, _ := s.acquire("d")
				defer s.release(d)
				reply := make(chan error, 1)
				d.send(context.Background(), &openReq{sess: c, client: c.client, by: ident.Author, reply: reply})
				if err := <-reply; err != nil {
					b.Fatal(err)
				}
				c.nextFrame(time.Second) // snapshot
				subs[i] = sub{c, d, ident}
			}
			latencies := make([][]time.Duration, submitters)
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for i := range subs {
				n := b.N / submitters
				if i < b.N%submitters {
					n++
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					sb := subs[i]
					rev := 0
					op := ot.Op{ot.Insert("x")}
					for seq := uint64(1); seq <= uint64(n); seq++ {
						t0 := time.Now()
						sb.d.send(context.Background(), &submitReq{sess: sb.c, ident: sb.ident, client: sb.c.client, rev: rev, seq: seq, op: op})
						for {
							frame, _ := sb.c.nextFrame(time.Minute)
							var m struct {
								Type string
								Rev  int
								Seq  uint64
							}
							json.Unmarshal(frame, &m)
							rev = max(rev, m.Rev)
							if m.Type == "ack" && m.Seq == seq {
								break
							}
							if m.Type == "error" {
								panic(string(frame))
							}
						}
						latencies[i] = append(latencies[i], time.Since(t0))
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
			var all []time.Duration
			for _, l := range latencies {
				all = append(all, l...)
			}
			reportPercentiles(b, all, "ack")
		})
	}
}

func reportPercentiles(b *testing.B, d []time.Duration, what string) {
	if len(d) == 0 {
		return
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, what+"-p50-ms")
	b.ReportMetric(float64(d[len(d)*99/100].Microseconds())/1000, what+"-p99-ms")
}
