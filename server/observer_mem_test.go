package server

import (
	"context"
	"runtime"
	"strings"
	"testing"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/storage"
)

// BenchmarkOwnerMemory: the heap a loaded draft of 1.2 M code points holds
// (its owner's text and observers), measured with runtime.MemStats after a
// GC, the store's own copy excluded.
//
//	go test -run '^$' -bench OwnerMemory -benchtime 1x ./server
func BenchmarkOwnerMemory(b *testing.B) {
	para := "1. The Parties shall [take all appropriate measures][endeavour] to protect the [marine environment] of areas beyond national jurisdiction.\n"
	text := strings.Repeat(para, 1_200_000/len(para)+1)
	ctx := context.Background()
	for b.Loop() {
		st := storage.NewMemory()
		if err := st.CreateDraft(ctx, dr.Draft{ID: "big", Title: "Big"}, text); err != nil {
			b.Fatal(err)
		}
		s := New(Config{Open: true}, st, nil)
		var ms0, ms1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms0)
		if err := s.Do(ctx, "big", func(*DraftState) error { return nil }); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&ms1)
		b.ReportMetric(float64(int64(ms1.HeapAlloc)-int64(ms0.HeapAlloc))/(1<<20), "MiB/draft")
		s.Shutdown(ctx)
		runtime.KeepAlive(st)
	}
}
