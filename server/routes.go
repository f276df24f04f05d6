package server

import (
	"context"
	"net/http"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/history"
)

// This file is the one place that lists what the server serves: every HTTP
// route, every WebSocket message type and every per-draft observer, grouped
// by resource. New calls each function once; the tables are read-only
// afterwards, so no lock guards them.

// route is a Go 1.22 ServeMux pattern and the handler that serves it.
type route struct {
	pattern string
	handler http.Handler
}

// routeTable lists every HTTP route, grouped by resource. Handlers that
// return an error are wrapped by s.handle, which writes the error at one
// edge (s.writeError).
func (s *Server) routeTable() []route {
	return []route{
		// Service: WebSocket endpoint, health, metrics, backup.
		{"GET /ws", http.HandlerFunc(s.serveWS)},
		{"GET /healthz", s.handle(s.healthz)},
		{"GET /metrics", s.handle(s.serveMetrics)},
		{"GET /api/admin/backup", s.handle(s.getBackup)},

		// dr.Identity, tokens and the audit log (tokens.go, audit.go).
		{"GET /api/me", s.handle(s.getMe)},
		{"GET /api/tokens", s.handle(s.listTokens)},
		{"POST /api/tokens", s.handle(s.issueToken)},
		{"DELETE /api/tokens/{id}", s.handle(s.revokeToken)},
		{"GET /api/audit", s.handle(s.getAudit)},

		// Drafts (http.go, drafts_list.go).
		{"GET /api/docs", s.handle(s.serveDraftList)},
		{"POST /api/docs", s.handle(s.createDraft)},
		{"GET /api/docs/{id}", s.handle(s.getDraft)},
		{"PATCH /api/docs/{id}", s.handle(s.patchDraft)}, // rename, archive (drafts_meta.go)
		{"GET /api/docs/{id}/ops", s.handle(s.getOps)},

		// Text and history (history_api.go).
		{"GET /api/docs/{id}/text", s.handle(s.getHistoryText)},
		{"PUT /api/docs/{id}/text", s.handle(s.putText)},
		{"GET /api/docs/{id}/diff", s.handle(s.getDiff)},
		{"GET /api/docs/{id}/authors", s.handle(s.getAuthors)},
		{"GET /api/docs/{id}/history", s.handle(s.getHistory)},
		{"GET /api/docs/{id}/labels", s.handle(s.getLabels)},
		{"POST /api/docs/{id}/labels", s.handle(s.postLabel)},
		{"GET /api/docs/{id}/export", s.handle(s.getExport)},

		// Word and Akoma Ntoso documents in; out is getExport's
		// format=docx|akn (documents_api.go).
		{"POST /api/docs/{id}/import", s.handle(s.postImport)},

		// Brackets, proposals and decisions (brackets_api.go).
		{"GET /api/docs/{id}/brackets", s.handle(s.getBrackets)},
		{"GET /api/docs/{id}/brackets/stats", s.handle(s.getBracketStats)},
		{"POST /api/docs/{id}/brackets/propose", s.handle(s.postPropose)},
		{"POST /api/docs/{id}/brackets/{group}/resolve", s.handle(s.postResolve)},
		{"GET /api/docs/{id}/proposals", s.handle(s.getProposals)},
		{"GET /api/docs/{id}/decisions", s.handle(s.getDecisions)},

		// Packages of bracket groups (packages_api.go).
		{"POST /api/docs/{id}/packages", s.handle(s.postPackage)},
		{"GET /api/docs/{id}/packages", s.handle(s.getPackages)},
		{"POST /api/docs/{id}/packages/{pkg}/resolve", s.handle(s.postPackageResolve)},

		// Provisions: status, numbering, export (provisions_api.go).
		{"GET /api/docs/{id}/provisions", s.handle(s.getProvisions)},
		{"GET /api/docs/{id}/provisions/stats", s.handle(s.getProvisionStats)},
		{"POST /api/docs/{id}/provisions/{pid}/status", s.handle(s.postProvisionStatus)},
		{"POST /api/docs/{id}/renumber", s.handle(s.postRenumber)},
		{"GET /api/docs/{id}/provisions/export", s.handle(s.getProvisionsExport)},

		// Anything else under /api/ is a JSON 404; the rest is the web UI.
		{"/api/", http.HandlerFunc(notFound)},
		{"/", s.webHandler()},
	}
}

// routes returns the HTTP handler serving routeTable.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.routeTable() {
		mux.Handle(rt.pattern, rt.handler)
	}
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
	return dr.Errorf(dr.CodeBadRequest, "hello was already accepted on this connection")
}

// observers returns the factories of the observers every draft gets when it
// loads, in the order they are fed each committed op. Each name is the
// snapshot Meta section the observer owns.
func observers() []namedFactory {
	return []namedFactory{
		{BracketsSection, func(d dr.Draft, snap dr.Snapshot) (Observer, error) {
			return restoreBrackets(d, snap, true) // brackets.go
		}},
		{history.MetaSection, func(_ dr.Draft, snap dr.Snapshot) (Observer, error) {
			o, err := history.NewObserver(snap) // history.go
			if err != nil {
				return nil, err // not a typed nil in the interface
			}
			return &authorsObserver{Observer: o}, nil
		}},
		{ProvisionsSection, func(d dr.Draft, snap dr.Snapshot) (Observer, error) {
			return restoreProvisions(d, snap) // provisions.go
		}},
	}
}
