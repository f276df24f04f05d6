package server

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/storage"
)

// TestDraftStoresNormalOps: the contract says the server normalises ops
// (merges adjacent components, drops empty ones and trailing skips) before
// it stores or broadcasts them, whether or not the op had to be transformed.
func TestDraftStoresNormalOps(t *testing.T) {
	store := storage.NewMemory()
	createDraft(t, store, "art-1", "hello world")
	ts := newTestServer(t, store, Config{})
	a, b := ts.session("a", "CAN"), ts.session("b", "FRA")
	a.open("art-1", nil)
	b.open("art-1", nil)

	// At the head: nothing to transform over.
	a.submit(0, 1, ot.Op{ot.Skip(2), ot.Skip(3), ot.Insert("A"), ot.Insert("B"), ot.Skip(6)})
	if m := a.next(); m["type"] != "ack" || num(m, "rev") != 1 {
		t.Fatalf("a got %v, want ack rev 1", m)
	}
	// Behind the head: transformed over op 1.
	b.submit(0, 1, ot.Op{ot.Skip(1), ot.Delete(1), ot.Delete(1), ot.Skip(4)})
	var broadcast map[string]any // a's op as b receives it
	for {
		m := b.next()
		if m["type"] == "op" {
			broadcast = m
		}
		if m["type"] == "ack" {
			break
		}
	}

	want := []ot.Op{
		{ot.Skip(5), ot.Insert("AB")},
		{ot.Skip(1), ot.Delete(2)},
	}
	ops, err := store.Ops(context.Background(), "art-1", 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i, op := range ops {
		if !reflect.DeepEqual(op.Op, want[i]) {
			t.Errorf("stored op %d = %v, want %v", op.Rev, op.Op, want[i])
		}
	}
	// The broadcast carries the same normal op.
	raw, _ := json.Marshal(broadcast["op"])
	if string(raw) != `[5,"AB"]` {
		t.Errorf("broadcast op %s, want [5,\"AB\"]", raw)
	}
}
