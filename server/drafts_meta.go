package server

// PATCH /api/docs/{id}: a facilitator renames a draft or archives it
// (docs/PROTOCOL.md "Renaming and archiving a draft"). The id never
// changes: it is in URLs, exports and the op log. An archived draft stays
// readable by everyone with access and editable by facilitators only;
// drafters' ops and proposals on it are refused with ErrForbidden.

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/storage"
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
		return Errorf(ErrForbidden, "only a facilitator renames or archives a draft")
	}
	var req struct {
		Title    *string `json:"title"`
		Archived *bool   `json:"archived"`
	}
	if err := s.ReadJSON(w, r, &req); err != nil {
		return err
	}
	if req.Title == nil && req.Archived == nil {
		return Errorf(ErrBadRequest, "a change needs title, archived or both")
	}
	if req.Title != nil {
		t := strings.TrimSpace(*req.Title)
		if t == "" {
			return Errorf(ErrBadRequest, "a title cannot be empty")
		}
		if utf8.RuneCountInString(t) > maxTitleLen {
			return Errorf(ErrBadRequest, "titles are at most %d characters", maxTitleLen)
		}
		req.Title = &t
	}
	before, err := s.store.Draft(r.Context(), doc)
	if err != nil {
		return notFoundDraft(err, doc)
	}
	after, err := s.store.PatchDraft(r.Context(), doc, dr.DraftPatch{Title: req.Title, Archived: req.Archived})
	if err != nil {
		if errors.Is(err, storage.ErrInvalid) {
			err = Errorf(ErrBadRequest, "%s", strings.TrimPrefix(err.Error(), "storage: "))
		}
		return notFoundDraft(err, doc)
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
func (d *draft) archivedFor(who Identity) error {
	if d.info.Archived && !who.IsFacilitator() {
		return Errorf(ErrForbidden, "draft %s is archived: only a facilitator may change it", d.id)
	}
	return nil
}
