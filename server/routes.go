package server

import (
	"context"
	"net/http"

	"github.com/draftroom/draftroom/history"
	"github.com/draftroom/draftroom/storage"
)

// This file is the one place that lists what the server serves: every HTTP
// route, every WebSocket message type and every per-draft observer, grouped
// by resource. New calls each function once; the tables are read-only
// afterwards, so no lock guards them.

// routes returns the HTTP handler: each route is a Go 1.22 ServeMux pattern
// and the handler that serves it. Handlers that return an error are wrapped
// by s.handle, which writes the error at one edge (s.writeError).
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()

	// Service: WebSocket endpoint, health, metrics, backup.
	mux.HandleFunc("GET /ws", s.serveWS)
	mux.Handle("GET /healthz", s.handle(s.healthz))
	mux.Handle("GET /metrics", s.handle(s.serveMetrics))
	mux.Handle("GET /api/admin/backup", s.handle(s.getBackup))

	// Identity, tokens and the audit log (tokens.go, audit.go).
	mux.Handle("GET /api/me", s.handle(s.getMe))
	mux.Handle("GET /api/tokens", s.handle(s.listTokens))
	mux.Handle("POST /api/tokens", s.handle(s.issueToken))
	mux.Handle("DELETE /api/tokens/{id}", s.handle(s.revokeToken))
	mux.Handle("GET /api/audit", s.handle(s.getAudit))

	// Drafts (http.go, drafts_list.go).
	mux.Handle("GET /api/docs", s.handle(s.serveDraftList))
	mux.Handle("POST /api/docs", s.handle(s.createDraft))
	mux.Handle("GET /api/docs/{id}", s.handle(s.getDraft))
	mux.Handle("GET /api/docs/{id}/ops", s.handle(s.getOps))

	// Text and history (history_api.go).
	mux.Handle("GET /api/docs/{id}/text", s.handle(s.getHistoryText))
	mux.Handle("PUT /api/docs/{id}/text", s.handle(s.putText))
	mux.Handle("GET /api/docs/{id}/diff", s.handle(s.getDiff))
	mux.Handle("GET /api/docs/{id}/authors", s.handle(s.getAuthors))
	mux.Handle("GET /api/docs/{id}/history", s.handle(s.getHistory))
	mux.Handle("GET /api/docs/{id}/labels", s.handle(s.getLabels))
	mux.Handle("POST /api/docs/{id}/labels", s.handle(s.postLabel))
	mux.Handle("GET /api/docs/{id}/export", s.handle(s.getExport))

	// Brackets, proposals and decisions (brackets_api.go).
	mux.Handle("GET /api/docs/{id}/brackets", s.handle(s.getBrackets))
	mux.Handle("GET /api/docs/{id}/brackets/stats", s.handle(s.getBracketStats))
	mux.Handle("POST /api/docs/{id}/brackets/propose", s.handle(s.postPropose))
	mux.Handle("POST /api/docs/{id}/brackets/{group}/resolve", s.handle(s.postResolve))
	mux.Handle("GET /api/docs/{id}/proposals", s.handle(s.getProposals))
	mux.Handle("GET /api/docs/{id}/decisions", s.handle(s.getDecisions))

	// Packages of bracket groups (packages_api.go).
	mux.Handle("POST /api/docs/{id}/packages", s.handle(s.postPackage))
	mux.Handle("GET /api/docs/{id}/packages", s.handle(s.getPackages))
	mux.Handle("POST /api/docs/{id}/packages/{pkg}/resolve", s.handle(s.postPackageResolve))

	// Provisions: status, numbering, export (provisions_api.go).
	mux.Handle("GET /api/docs/{id}/provisions", s.handle(s.getProvisions))
	mux.Handle("GET /api/docs/{id}/provisions/stats", s.handle(s.getProvisionStats))
	mux.Handle("POST /api/docs/{id}/provisions/{pid}/status", s.handle(s.postProvisionStatus))
	mux.Handle("POST /api/docs/{id}/renumber", s.handle(s.postRenumber))
	mux.Handle("GET /api/docs/{id}/provisions/export", s.handle(s.getProvisionsExport))

	// Anything else under /api/ is a JSON 404; the rest is the web UI.
	mux.HandleFunc("/api/", notFound)
	mux.Handle("/", s.webHandler())
	return mux
}

// messages returns the handler of each WebSocket message type a session
// may send after hello (docs/PROTOCOL.md). Session.handle looks the type up
// here; an unknown type is bad_request.
func messages() map[string]MessageHandler {
	return map[string]MessageHandler{
		// Core protocol (conn.go).
		"hello":    helloAgain,
		"open":     handleOpen,
		"close":    handleClose,
		"op":       handleOp,
		"presence": handlePresence,

		// Brackets (brackets_api.go).
		"brackets": handleBracketsMsg,
		"propose":  handleProposeMsg,
		"resolve":  handleResolveMsg,

		// History replay (history_api.go).
		"replay":      handleReplayMsg,
		"replay_stop": handleReplayStopMsg,

		// Provisions (provisions_api.go).
		"provisions":       handleProvisionsMsg,
		"provision_status": handleProvisionStatusMsg,
		"provision_stats":  handleProvisionStatsMsg,
		"renumber":         handleRenumberMsg,
	}
}

// helloAgain refuses a second hello on a connection.
func helloAgain(context.Context, *Session, *Inbound) error {
	return Errorf(ErrBadRequest, "hello was already accepted on this connection")
}

// observers returns the factories of the observers every draft gets when it
// loads, in the order they are fed each committed op. Each name is the
// snapshot Meta section the observer owns.
func observers() []namedFactory {
	return []namedFactory{
		{BracketsSection, func(d storage.Draft, snap storage.Snapshot) (Observer, error) {
			return restoreBrackets(d, snap, true) // brackets.go
		}},
		{history.MetaSection, func(_ storage.Draft, snap storage.Snapshot) (Observer, error) {
			o, err := history.NewObserver(snap) // history.go
			if err != nil {
				return nil, err // not a typed nil in the interface
			}
			return &authorsObserver{Observer: o}, nil
		}},
		{ProvisionsSection, func(d storage.Draft, snap storage.Snapshot) (Observer, error) {
			return restoreProvisions(d, snap) // provisions.go
		}},
	}
}
