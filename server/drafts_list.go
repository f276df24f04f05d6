package server

// GET /api/docs?brackets=1: the draft list with each draft's open bracket
// groups and unbalanced brackets, in one request (the web UI's draft list
// used to ask once per draft). Without the parameter the route is the
// server's own list. docs/PROTOCOL.md "Listing drafts with their brackets".

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"sync"

	"github.com/draftroom/draftroom/dr"
)

// listBracketsMax bounds how many drafts (the most recently changed) get
// bracket counts in one list: each count loads its draft.
const listBracketsMax = 200

// listBracketsWorkers is how many drafts are counted at once.
const listBracketsWorkers = 4

type draftSummaryJSON struct {
	draftJSON
	// Open and Diagnostics are absent for a draft beyond listBracketsMax
	// or whose count failed.
	Open        *int `json:"open,omitempty"`
	Diagnostics *int `json:"diagnostics,omitempty"`
}

// serveDraftList serves GET /api/docs: the server's own list, or with
// ?brackets=1 the list with bracket counts.
func (s *Server) serveDraftList(w http.ResponseWriter, r *http.Request) error {
	if r.URL.Query().Get("brackets") != "1" {
		return s.listDrafts(w, r)
	}
	return s.listDraftsWithBrackets(w, r)
}

func (s *Server) listDraftsWithBrackets(w http.ResponseWriter, r *http.Request) error {
	id, err := s.Identify(r)
	if err != nil {
		return err
	}
	drafts, err := s.store.Drafts(r.Context())
	if err != nil {
		return fmt.Errorf("list drafts: %w", err)
	}
	var visible []dr.Draft
	for _, d := range drafts {
		if id.CanAccess(d.ID) {
			visible = append(visible, d)
		}
	}
	sort.Slice(visible, func(i, j int) bool { return visible[i].ID < visible[j].ID })
	out := make([]draftSummaryJSON, len(visible))
	for i, d := range visible {
		out[i].draftJSON = draftOut(d)
	}
	s.countBrackets(r.Context(), out)
	WriteJSON(w, http.StatusOK, map[string]any{"docs": out})
	return nil
}

// countBrackets fills Open and Diagnostics of the listBracketsMax most
// recently changed drafts of list, listBracketsWorkers at a time.
func (s *Server) countBrackets(ctx context.Context, list []draftSummaryJSON) {
	order := make([]int, len(list))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return activity(list[order[a]]) > activity(list[order[b]]) })
	if len(order) > listBracketsMax {
		order = order[:listBracketsMax]
	}
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(listBracketsWorkers, len(order)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				st, err := s.bracketStats(ctx, list[i].ID)
				if err != nil {
					s.Logger().Debug("draft list: bracket count", "doc", list[i].ID, "err", err)
					continue
				}
				open, diags := st.Open, st.Diagnostics
				list[i].Open, list[i].Diagnostics = &open, &diags
			}
		}()
	}
	for _, i := range order {
		select {
		case work <- i:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
}

func activity(d draftSummaryJSON) int64 { return max(d.Updated, d.Created) }
