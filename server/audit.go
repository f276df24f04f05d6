package server

// The audit log: an append-only record, in the store, of who signed in,
// issued or revoked a token, created a draft, resolved a bracket, labelled
// or imported a version (docs/SECURITY.md), and GET /api/audit.

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/draftroom/draftroom/dr"
)

// Audit appends an entry to the audit log: who (author and role of the
// identity) did action (one of the Action constants) on draft (may be "")
// now, with detail for people. Call it after the action succeeded. A
// failure is logged and returned; the action is not undone (it already
// happened), so callers usually ignore the error.
func (s *Server) Audit(ctx context.Context, who dr.Identity, action, draft, detail string) error {
	e := dr.AuditEntry{
		TS:     s.cfg.Now().UnixMilli(),
		Actor:  who.Author,
		Role:   who.Role,
		Action: action,
		Draft:  draft,
		Detail: detail,
	}
	if _, err := s.store.AppendAudit(ctx, e); err != nil {
		s.log.Error("audit", "action", action, "draft", draft, "by", who.Author.Delegation+"/"+who.Author.Name, "err", err)
		return err
	}
	return nil
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
		return dr.Errorf(dr.CodeForbidden, "only a facilitator reads the audit log")
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
	entries, err := s.store.Audit(r.Context(), int64(after), limit)
	if err != nil {
		return err
	}
	next := int64(after)
	out := make([]dr.AuditEntry, 0, len(entries))
	for _, e := range entries {
		next = max(next, e.Seq)
		if len(id.Drafts) == 0 || (e.Draft != "" && id.CanAccess(e.Draft)) {
			out = append(out, e)
		}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"entries": out, "next": next})
	return nil
}

// Audit actions recorded by the bounded path (auditBounded): anyone can
// cause them, as often as they like, so each is limited per actor.
const (
	ActionLoginFailed = "login.failed"    // a bad, revoked or expired token (WebSocket or HTTP)
	ActionRefused     = "refused"         // an action refused as forbidden or unauthorized
	ActionPropose     = "bracket.propose" // an alternative proposed or a span bracketed
	ActionTokenUse    = "token.use"       // HTTP requests made with a token
)

// Bounds of the audit entries that anyone can cause (auditBounded): per
// actor and action, a burst of auditKeyBurst entries and then one every
// auditKeyEvery; for all such entries together, auditAllBurst and then one
// every auditAllEvery. HTTP use of a token is summed up: one entry per
// token every tokenUseEvery, saying how many requests it stands for. An
// entry that finds its bucket empty is counted, and the next one admitted
// says how many were left out ("suppressed=N"). So a flood of failed
// sign-ins, refusals or proposals writes at most about one entry a second
// (86,400 a day, some tens of MB), whatever its rate.
const (
	auditKeyBurst = 20
	auditKeyEvery = 10 * time.Second
	auditAllBurst = 200
	auditAllEvery = time.Second
	tokenUseEvery = time.Minute
	// auditMaxKeys bounds the limiter's memory; beyond it, idle keys are
	// dropped, and if none is idle every key starts afresh (the global
	// bucket still holds).
	auditMaxKeys = 4096
)

// auditLimiter admits the bounded audit entries.
type auditLimiter struct {
	mu   sync.Mutex
	keys map[string]*auditKey
	all  bucket
}

type auditKey struct {
	b          bucket
	suppressed int
}

// admit reports whether an entry of key may be written now, and how many
// of key's entries were left out since its last one.
func (l *auditLimiter) admit(key string, every time.Duration, burst int, now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.keys == nil {
		l.keys = make(map[string]*auditKey)
		l.all = newBucket(1/auditAllEvery.Seconds(), auditAllBurst, now)
	}
	k := l.keys[key]
	if k == nil {
		if len(l.keys) >= auditMaxKeys {
			l.evict(now)
		}
		k = &auditKey{b: newBucket(1/every.Seconds(), burst, now)}
		l.keys[key] = k
	}
	if !k.b.allow(now) || !l.all.allow(now) {
		k.suppressed++
		return false, 0
	}
	n := k.suppressed
	k.suppressed = 0
	return true, n
}

// evict drops the keys whose bucket has refilled and that left nothing
// out: forgetting them changes nothing. If none is, it forgets them all.
func (l *auditLimiter) evict(now time.Time) {
	for key, k := range l.keys {
		b := k.b
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
		if k.suppressed == 0 && b.tokens >= b.burst {
			delete(l.keys, key)
		}
	}
	if len(l.keys) >= auditMaxKeys {
		clear(l.keys)
	}
}

// auditBounded appends an audit entry that anyone can cause (a failed
// sign-in, a refusal, a proposal), limited per actor as auditLimiter says:
// actor is who the limit applies to (a principal, or "ip:<address>" for
// requests without a valid credential). Entries left out are counted in
// the next one's detail. Like Audit, a failure is logged, not returned.
func (s *Server) auditBounded(who dr.Identity, actor, action, draft, detail string) {
	every, burst := auditKeyEvery, auditKeyBurst
	if action == ActionTokenUse {
		every, burst = tokenUseEvery, 1
	}
	ok, suppressed := s.auditLimit.admit(action+" "+actor, every, burst, time.Now())
	if !ok {
		return
	}
	if suppressed > 0 {
		detail += fmt.Sprintf(" suppressed=%d", suppressed)
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.CommitTimeout)
	defer cancel()
	s.Audit(ctx, who, action, draft, detail)
}

// remoteHost is the address part of a remote address (host:port).
func remoteHost(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// auditRefusal records a refused request or message: a failed sign-in
// (login.failed) when it was refused as unauthorized while carrying a
// credential, otherwise a refusal (forbidden, or unauthorized without a
// credential) by who. what says which request or message it was. Called
// where errors become protocol codes; codes other than forbidden and
// unauthorized are ignored.
func (s *Server) auditRefusal(who dr.Identity, code string, credential bool, remote, what, msg string) {
	switch code {
	case dr.CodeForbidden, dr.CodeUnauthorized:
	default:
		return
	}
	actor := who.Principal
	if actor == "" {
		actor = "ip:" + remoteHost(remote)
	}
	action := ActionRefused
	if code == dr.CodeUnauthorized && credential {
		action = ActionLoginFailed
	}
	s.auditBounded(who, actor, action, "", fmt.Sprintf("%s from=%s code=%s: %s", what, remote, code, msg))
}

// auditHTTPRefusal is auditRefusal for an HTTP request: the identity is
// the request's own, when it has one.
func (s *Server) auditHTTPRefusal(r *http.Request, code, msg string) {
	if code != dr.CodeForbidden && code != dr.CodeUnauthorized {
		return
	}
	var who dr.Identity
	if code == dr.CodeForbidden {
		who, _ = s.auth.Request(r)
	}
	credential := r.Header.Get("Authorization") != ""
	s.auditRefusal(who, code, credential, r.RemoteAddr, r.Method+" "+dr.Clip(r.URL.Path), msg)
}

// auditTokenUse records HTTP use of a token: at most one entry per token
// a minute (tokenUseEvery), naming the request that made it and how many
// were left out since the last one.
func (s *Server) auditTokenUse(r *http.Request, id dr.Identity) {
	if id.TokenID == "" {
		return
	}
	s.auditBounded(id, id.Principal, ActionTokenUse, "", fmt.Sprintf("token=%s %s %s from=%s", id.TokenID, r.Method, dr.Clip(r.URL.Path), r.RemoteAddr))
}
