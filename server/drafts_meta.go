package server

// PATCH /api/docs/{id}: a facilitator renames a draft or archives it
// (docs/PROTOCOL.md "Renaming and archiving a draft"). The id never
// changes: it is in URLs, exports and the op log. An archived draft stays
// readable by everyone with access and editable by facilitators only;
// drafters' ops and proposals on it are refused as forbidden.

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/draftroom/draftroom/dr"
)

// Audit actions of draft metadata changes.
const (
	ActionDraftRename    = "draft.rename"
	ActionDraftArchive   = "draft.archive"
	ActionDraftUnarchive = "draft.unarchive"
)

// draftOut is a draft as the list and PATCH answer it.
func draftOut(d dr.Draft) draftJSON {
	return draftJSON{ID: d.ID, Title: d.Title, Rev: d.Rev, Created: d.Created, Updated: d.Updated, By: d.By, Archived: d.Archived}
}

func (s *Server) patchDraft(w http.ResponseWriter, r *http.Request) error {
	who, doc, err := s.draftFor(r)
	if err != nil {
		return err
	}
	if !who.IsFacilitator() {
		return dr.Errorf(dr.CodeForbidden, "only a facilitator renames or archives a draft")
	}
	var req struct {
		Title    *string `json:"title"`
		Archived *bool   `json:"archived"`
	}
	if err := s.ReadJSON(w, r, &req); err != nil {
		return err
	}
	if req.Title != nil {
		t := strings.TrimSpace(*req.Title)
		req.Title = &t
	}
	patch := dr.DraftPatch{Title: req.Title, Archived: req.Archived}
	if err := patch.Check(); err != nil {
		return err
	}
	before, err := s.draftInfo(r.Context(), doc)
	if err != nil {
		return err
	}
	after, err := s.store.PatchDraft(r.Context(), doc, patch)
	if err != nil {
		return err
	}
	// The draft's owner on this node (if it is open) takes the new title
	// and flag now; other nodes when they next load the draft.
	s.refreshInfo(r, doc, after)
	if after.Title != before.Title {
		s.Audit(r.Context(), who, ActionDraftRename, doc, fmt.Sprintf("from=%q to=%q", before.Title, after.Title))
	}
	if after.Archived != before.Archived {
		action := ActionDraftUnarchive
		if after.Archived {
			action = ActionDraftArchive
		}
		s.Audit(r.Context(), who, action, doc, fmt.Sprintf("title=%q", after.Title))
	}
	WriteJSON(w, http.StatusOK, draftOut(after))
	return nil
}

// refreshInfo hands the new metadata to the draft's owner goroutine if the
// draft is open on this node; it does not load a closed draft.
func (s *Server) refreshInfo(r *http.Request, doc string, info dr.Draft) {
	d := s.loaded(doc)
	if d == nil {
		return
	}
	defer s.release(d)
	reply := make(chan error, 1)
	if err := d.send(r.Context(), &doReq{fn: func(st *DraftState) error {
		st.d.info.Title, st.d.info.Archived = info.Title, info.Archived
		return nil
	}, reply: reply}); err != nil {
		return
	}
	_ = wait(r.Context(), d, reply)
}

// loaded takes a hold of draft doc if it is open on this node, nil if not.
func (s *Server) loaded(doc string) *draft {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.drafts[doc]
	if d != nil {
		d.refs++
	}
	return d
}

// archivedFor refuses an edit of an archived draft by anyone but a
// facilitator. It runs in the owner goroutine.
func (d *draft) archivedFor(who dr.Identity) error {
	if d.info.Archived && !who.IsFacilitator() {
		return dr.Errorf(dr.CodeForbidden, "draft %s is archived: only a facilitator may change it", d.id)
	}
	return nil
}
