package server

// The audit log: an append-only record, in the store, of who signed in,
// issued or revoked a token, created a draft, resolved a bracket, labelled
// or imported a version (docs/SECURITY.md), and GET /api/audit.

import (
	"context"
	"net/http"

	"github.com/draftroom/draftroom/storage"
)

// auditStore is the store's audit log.
type auditStore interface {
	AppendAudit(ctx context.Context, e storage.AuditEntry) (storage.AuditEntry, error)
	Audit(ctx context.Context, afterSeq int64, limit int) ([]storage.AuditEntry, error)
}

// Audit appends an entry to the audit log: who (author and role of the
// identity) did action (one of the Action constants) on draft (may be "")
// now, with detail for people. Call it after the action succeeded. A
// failure is logged and returned; the action is not undone (it already
// happened), so callers usually ignore the error. Stores without an audit
// log make it a no-op.
func (s *Server) Audit(ctx context.Context, who Identity, action, draft, detail string) error {
	as, ok := s.store.(auditStore)
	if !ok {
		s.sec.noAudit.Do(func() { s.log.Warn("store keeps no audit log", "store", storeName(s.store)) })
		return nil
	}
	e := storage.AuditEntry{
		TS:     s.cfg.Now().UnixMilli(),
		Actor:  who.Author,
		Role:   who.Role,
		Action: action,
		Draft:  draft,
		Detail: detail,
	}
	if _, err := as.AppendAudit(ctx, e); err != nil {
		s.log.Error("audit", "action", action, "draft", draft, "by", who.Author.Delegation+"/"+who.Author.Name, "err", err)
		return err
	}
	return nil
}

func storeName(st Store) string {
	type namer interface{ String() string }
	if n, ok := st.(namer); ok {
		return n.String()
	}
	return "?"
}

// Paging of GET /api/audit.
const (
	defaultAuditPage = 100
	maxAuditPage     = 1000
)

// getAudit serves GET /api/audit?after=SEQ&limit=N (facilitators): entries
// with Seq > after, oldest first, and next, the after of the next page.
// A facilitator limited to some drafts sees only entries about those
// drafts.
func (s *Server) getAudit(w http.ResponseWriter, r *http.Request) error {
	id, err := s.Identify(r)
	if err != nil {
		return err
	}
	if !id.IsFacilitator() {
		return Errorf(ErrForbidden, "only a facilitator reads the audit log")
	}
	after, err := revParam(r, "after", 0)
	if err != nil {
		return err
	}
	limit, err := revParam(r, "limit", defaultAuditPage)
	if err != nil {
		return err
	}
	limit = min(max(limit, 1), maxAuditPage)
	as, ok := s.store.(auditStore)
	if !ok {
		WriteJSON(w, http.StatusOK, map[string]any{"entries": []storage.AuditEntry{}, "next": after})
		return nil
	}
	entries, err := as.Audit(r.Context(), int64(after), limit)
	if err != nil {
		return err
	}
	next := int64(after)
	out := make([]storage.AuditEntry, 0, len(entries))
	for _, e := range entries {
		next = max(next, e.Seq)
		if len(id.Drafts) == 0 || (e.Draft != "" && id.CanAccess(e.Draft)) {
			out = append(out, e)
		}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"entries": out, "next": next})
	return nil
}
