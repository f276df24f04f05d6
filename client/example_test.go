package client_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/draftroom/draftroom/client"
	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/server"
	"github.com/draftroom/draftroom/storage"
)

// Two delegations edit one draft; both end with the same text.
func Example() {
	// A server in open mode over an in-memory store, with one draft.
	store := storage.NewMemory()
	store.CreateDraft(context.Background(), dr.Draft{ID: "art-17", Title: "Article 17"}, "States Parties adopt measures.")
	srv := server.New(server.Config{Open: true}, store, nil)
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	url := "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws"

	ctx := context.Background()
	can, err := client.Dial(ctx, url, client.Options{Delegation: "CAN", Name: "Ana", Role: "drafter"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer can.Close()
	fra, err := client.Dial(ctx, url, client.Options{Delegation: "FRA", Name: "Luc", Role: "drafter"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer fra.Close()
	a, _ := can.Open(ctx, "art-17")
	b, _ := fra.Open(ctx, "art-17")

	// Concurrent edits: each is applied locally at once.
	if err := a.Edit(ot.Op{ot.Skip(14), ot.Insert(" [shall]")}); err != nil {
		fmt.Println(err)
	}
	if err := b.Edit(ot.Op{ot.Skip(21), ot.DeleteText("measures"), ot.Insert("all appropriate measures")}); err != nil {
		fmt.Println(err)
	}

	a.WaitSynced(ctx)
	b.WaitSynced(ctx)
	a.WaitRev(ctx, 2)
	b.WaitRev(ctx, 2)
	fmt.Println(a.Text())
	fmt.Println(b.Text() == a.Text(), a.Rev())
	// Output:
	// States Parties [shall] adopt all appropriate measures.
	// true 2
}
