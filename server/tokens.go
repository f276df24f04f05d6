package server

// Token authentication (hello "token", HTTP "Authorization: Bearer") and the
// account endpoints of docs/PROTOCOL.md section 2.4: /api/me, /api/tokens.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/draftroom/draftroom/auth"
	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/storage"
)

// TokenAuth authenticates the secrets issued by package auth against a
// store's tokens. dr.Identity (author, role, draft patterns, principal) comes
// from the stored token only. It implements Authenticator.
type TokenAuth struct {
	store auth.Store
	now   func() time.Time
}

// NewTokenAuth returns token authentication over st. now is the clock
// (nil: time.Now).
func NewTokenAuth(st auth.Store, now func() time.Time) *TokenAuth {
	if now == nil {
		now = time.Now
	}
	return &TokenAuth{store: st, now: now}
}

// Hello authenticates a hello's token; the hello's delegation, name and
// role are ignored.
func (a *TokenAuth) Hello(ctx context.Context, h Hello) (dr.Identity, error) {
	return a.verify(ctx, h.Token)
}

// Request authenticates "Authorization: Bearer <token>".
func (a *TokenAuth) Request(r *http.Request) (dr.Identity, error) {
	h := r.Header.Get("Authorization")
	secret, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return dr.Identity{}, dr.Errorf(dr.CodeUnauthorized, "a token is required (Authorization: Bearer <token>)")
	}
	return a.verify(r.Context(), strings.TrimSpace(secret))
}

func (a *TokenAuth) verify(ctx context.Context, secret string) (dr.Identity, error) {
	tok, err := auth.Verify(ctx, a.store, secret, a.now())
	if err != nil {
		// A refused token is an unauthorized *dr.Error (auth.ErrInvalid,
		// ErrRevoked, ErrExpired); a store failure stays what it is.
		return dr.Identity{}, fmt.Errorf("verify token: %w", err)
	}
	return identityOf(tok), nil
}

// identityOf is the identity a token gives.
func identityOf(tok dr.Token) dr.Identity {
	return dr.Identity{
		Principal: dr.TokenPrincipal(tok.ID),
		Author:    dr.Author{Delegation: tok.Delegation, Name: tok.Name},
		Role:      tok.Role,
		Drafts:    append([]string(nil), tok.Drafts...),
		TokenID:   tok.ID,
	}
}

// Audit actions recorded by the server (dr.AuditEntry.Action).
const (
	ActionLogin          = "login"
	ActionTokenIssue     = "token.issue"
	ActionTokenRevoke    = "token.revoke"
	ActionDraftCreate    = "draft.create"
	ActionBracketResolve = "bracket.resolve"
	ActionLabel          = "label"
	ActionImport         = "import"
)

// meJSON answers GET /api/me.
type meJSON struct {
	Delegation string     `json:"delegation"`
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	Drafts     []string   `json:"drafts"`
	Open       bool       `json:"open"`
	Token      *tokenJSON `json:"token,omitempty"`
}

// tokenJSON is a token as the API shows it: never its hash.
type tokenJSON struct {
	ID         string   `json:"id"`
	Delegation string   `json:"delegation"`
	Name       string   `json:"name"`
	Role       string   `json:"role"`
	Drafts     []string `json:"drafts"`
	Created    int64    `json:"created"`
	Expires    int64    `json:"expires,omitempty"`
	Revoked    int64    `json:"revoked,omitempty"`
	IssuedBy   string   `json:"issued_by,omitempty"`
}

func newTokenJSON(t dr.Token) tokenJSON {
	drafts := t.Drafts
	if drafts == nil {
		drafts = []string{}
	}
	return tokenJSON{t.ID, t.Delegation, t.Name, t.Role, drafts, t.Created, t.Expires, t.Revoked, t.IssuedBy}
}

func (s *Server) getMe(w http.ResponseWriter, r *http.Request) error {
	id, err := s.Identify(r)
	if err != nil {
		return err
	}
	out := meJSON{Delegation: id.Author.Delegation, Name: id.Author.Name, Role: id.Role, Drafts: id.Drafts, Open: id.TokenID == ""}
	if out.Drafts == nil {
		out.Drafts = []string{}
	}
	if id.TokenID != "" {
		if tok, err := s.store.Token(r.Context(), id.TokenID); err == nil {
			tj := newTokenJSON(tok)
			out.Token = &tj
		}
	}
	WriteJSON(w, http.StatusOK, out)
	return nil
}

// tokenManager authenticates a request that manages tokens: a facilitator
// signed in with a token (open-mode identities are self-declared, so they
// never manage credentials).
func (s *Server) tokenManager(r *http.Request) (dr.Identity, error) {
	id, err := s.Identify(r)
	if err != nil {
		return dr.Identity{}, err
	}
	if !id.IsFacilitator() {
		return dr.Identity{}, dr.Errorf(dr.CodeForbidden, "only a facilitator manages tokens")
	}
	if id.TokenID == "" {
		return dr.Identity{}, dr.Errorf(dr.CodeForbidden, "tokens are managed with a facilitator token, not in open mode")
	}
	return id, nil
}

// withinScope reports whether a token with draft patterns drafts is within
// what the identity may hand out or take back: anything for an identity
// limited to no drafts; otherwise a token limited to some of the
// identity's own patterns (compared as strings: a pattern that is a subset
// of another is not recognised, which only errs on the side of refusing).
func withinScope(id dr.Identity, drafts []string) bool {
	if len(id.Drafts) == 0 {
		return true
	}
	if len(drafts) == 0 {
		return false
	}
	for _, p := range drafts {
		found := false
		for _, own := range id.Drafts {
			if p == own {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	id, err := s.tokenManager(r)
	if err != nil {
		return err
	}
	toks, err := s.store.Tokens(r.Context())
	if err != nil {
		return fmt.Errorf("list tokens: %w", err)
	}
	sort.Slice(toks, func(i, j int) bool {
		if toks[i].Created != toks[j].Created {
			return toks[i].Created < toks[j].Created
		}
		return toks[i].ID < toks[j].ID
	})
	out := make([]tokenJSON, 0, len(toks))
	for _, t := range toks {
		if withinScope(id, t.Drafts) {
			out = append(out, newTokenJSON(t))
		}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"tokens": out})
	return nil
}

// issueRequest is the body of POST /api/tokens.
type issueRequest struct {
	Delegation string   `json:"delegation"`
	Name       string   `json:"name"`
	Role       string   `json:"role"`
	Drafts     []string `json:"drafts"`
	// ExpiresIn is a Go duration ("720h"); empty: never expires.
	ExpiresIn string `json:"expires_in"`
}

// issuedJSON answers POST /api/tokens: the secret, shown this once.
type issuedJSON struct {
	Token string `json:"token"`
	tokenJSON
}

func (s *Server) issueToken(w http.ResponseWriter, r *http.Request) error {
	id, err := s.tokenManager(r)
	if err != nil {
		return err
	}
	var req issueRequest
	if err := s.ReadJSON(w, r, &req); err != nil {
		return err
	}
	if req.Role == dr.RoleFacilitator {
		return dr.Errorf(dr.CodeForbidden, "facilitator tokens are issued on the server with `draftroom token issue`; over HTTP a facilitator issues drafter and reviewer tokens")
	}
	if len(req.Drafts) == 0 {
		req.Drafts = id.Drafts // a limited facilitator hands out at most its own drafts
	}
	if !withinScope(id, req.Drafts) {
		return dr.Errorf(dr.CodeForbidden, "you may issue tokens only for your own draft patterns %v", id.Drafts)
	}
	var ttl time.Duration
	if req.ExpiresIn != "" {
		if ttl, err = time.ParseDuration(req.ExpiresIn); err != nil || ttl <= 0 {
			return dr.Errorf(dr.CodeBadRequest, "expires_in must be a positive duration such as \"720h\", got %q", dr.Clip(req.ExpiresIn))
		}
	}
	secret, tok, err := auth.Issue(r.Context(), s.store, auth.Request{
		Delegation: req.Delegation, Name: req.Name, Role: req.Role, Drafts: req.Drafts, TTL: ttl, IssuedBy: id.TokenID,
	}, s.cfg.Now())
	if err != nil { // a refused request is a bad_request *dr.Error from auth.Check
		return err
	}
	s.Audit(r.Context(), id, ActionTokenIssue, "", describeToken(tok))
	WriteJSON(w, http.StatusCreated, issuedJSON{Token: secret, tokenJSON: newTokenJSON(tok)})
	return nil
}

// describeToken is a token's audit detail.
func describeToken(t dr.Token) string {
	d := fmt.Sprintf("id=%s role=%s delegation=%s name=%q", t.ID, t.Role, t.Delegation, t.Name)
	if len(t.Drafts) > 0 {
		d += " drafts=" + strings.Join(t.Drafts, ",")
	}
	if t.Expires != 0 {
		d += " expires=" + time.UnixMilli(t.Expires).UTC().Format(time.RFC3339)
	}
	return d
}

// mayRevoke enforces SECURITY.md's rule: a facilitator revokes only the
// tokens it could have issued over HTTP (drafter and reviewer tokens
// within its draft patterns), and its own. Facilitator tokens are issued
// with the CLI on the machine that holds the store, and revoked there
// too: otherwise one stolen facilitator token could lock out every other
// facilitator, the chair included.
func mayRevoke(id dr.Identity, tok dr.Token) error {
	if tok.ID == id.TokenID {
		return nil
	}
	if tok.Role == dr.RoleFacilitator {
		return dr.Errorf(dr.CodeForbidden, "token %s is a facilitator's; facilitator tokens are revoked where they are issued, with `draftroom token revoke -data DIR %s` (or -redis URL) on the machine that holds the store", tok.ID, tok.ID)
	}
	if !withinScope(id, tok.Drafts) {
		return dr.Errorf(dr.CodeForbidden, "token %s reaches beyond your draft patterns %v", tok.ID, id.Drafts)
	}
	return nil
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	id, err := s.tokenManager(r)
	if err != nil {
		return err
	}
	tokID := r.PathValue("id")
	tok, err := s.store.Token(r.Context(), tokID)
	if errors.Is(err, storage.ErrNotFound) {
		return dr.Errorf(dr.CodeNotFound, "no token %s", dr.Clip(tokID))
	}
	if err != nil {
		return err
	}
	if err := mayRevoke(id, tok); err != nil {
		return err
	}
	at := s.cfg.Now().UnixMilli()
	if err := s.store.RevokeToken(r.Context(), tok.ID, at); err != nil {
		return fmt.Errorf("revoke token %s: %w", tok.ID, err)
	}
	closed := s.closeToken(tok.ID, "your token was revoked")
	if tok.Revoked == 0 {
		tok.Revoked = at
		s.Audit(r.Context(), id, ActionTokenRevoke, "", fmt.Sprintf("%s connections_closed=%d", describeToken(tok), closed))
	}
	WriteJSON(w, http.StatusOK, map[string]any{"id": tok.ID, "revoked": tok.Revoked, "closed": closed})
	return nil
}
