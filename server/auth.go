package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/draftroom/draftroom/auth"
	"github.com/draftroom/draftroom/dr"
)

// Identity is who is behind a connection or an HTTP request. It always
// comes from the credential, never from what a message claims.
type Identity struct {
	// Principal scopes dedupe: "tok:<id>" for a token, "open:<delegation>/<name>"
	// in open mode, "system" for server-built ops. Never sent to clients.
	Principal string
	Author    dr.Author
	Role      string
	// Drafts are path.Match patterns of the draft ids this identity may
	// access; empty means all.
	Drafts []string
	// TokenID is the token's id, "" in open mode.
	TokenID string
}

// CanEdit reports whether the role may submit ops and presence beyond
// reading (facilitators and drafters).
func (id Identity) CanEdit() bool {
	return id.Role == dr.RoleFacilitator || id.Role == dr.RoleDrafter
}

// IsFacilitator reports whether the role manages drafts.
func (id Identity) IsFacilitator() bool { return id.Role == dr.RoleFacilitator }

// CanAccess reports whether the identity may see draft id.
func (id Identity) CanAccess(draft string) bool { return auth.MayAccess(id.Drafts, draft) }

// Hello is the credential part of a hello message.
type Hello struct {
	Client     string
	Token      string
	Delegation string
	Name       string
	Role       string

	proxied bool // the WebSocket came through a reverse proxy (openMode.allows)
}

// Authenticator turns a credential into an Identity. Token authentication
// (issue 8) implements it; OpenAuth is open mode. Errors wrap
// ErrUnauthorized (bad or missing credential) or ErrBadRequest; their
// messages are shown to the client.
type Authenticator interface {
	// Hello authenticates a WebSocket hello.
	Hello(ctx context.Context, h Hello) (Identity, error)
	// Request authenticates an HTTP request.
	Request(r *http.Request) (Identity, error)
}

// OpenPrincipal is the dedupe scope of an open-mode identity.
func OpenPrincipal(delegation, name string) string { return auth.OpenPrincipal(delegation, name) }

// Open mode over HTTP: a request without a token acts as the identity
// named by these headers, or, without them, as the open-mode facilitator
// (delegation OpenDelegation, name OpenName). Only in open mode.
const (
	HeaderDelegation = "X-Draftroom-Delegation"
	HeaderName       = "X-Draftroom-Name"
	HeaderRole       = "X-Draftroom-Role"
	OpenDelegation   = "OPEN"
	OpenName         = "open mode"
)

// OpenAuth is open mode: identities are whatever the hello (or the HTTP
// headers) say, validated for shape only. For local trials and benchmarks.
type OpenAuth struct{}

// Hello accepts a hello's delegation, name and role.
func (OpenAuth) Hello(_ context.Context, h Hello) (Identity, error) {
	return openIdentity(h.Delegation, h.Name, h.Role)
}

// Request uses the X-Draftroom-* headers, or the open-mode facilitator
// when none is set.
func (OpenAuth) Request(r *http.Request) (Identity, error) {
	d, n, role := r.Header.Get(HeaderDelegation), headerName(r.Header.Get(HeaderName)), r.Header.Get(HeaderRole)
	if d == "" && n == "" && role == "" {
		d, n, role = OpenDelegation, OpenName, dr.RoleFacilitator
	}
	return openIdentity(d, n, role)
}

// headerName decodes the X-Draftroom-Name header: HTTP header values are
// ASCII in practice, so a name outside it ("田中 純") comes
// percent-encoded (as encodeURIComponent writes it, which is what the web
// UI does for any name that is not plain ASCII or holds a "%"). A value
// that does not decode as percent-encoding to valid UTF-8 is taken as it
// is.
func headerName(v string) string {
	if !strings.Contains(v, "%") {
		return v
	}
	dec, err := url.PathUnescape(v)
	if err != nil || !utf8.ValidString(dec) {
		return v
	}
	return dec
}

func openIdentity(delegation, name, role string) (Identity, error) {
	if err := ValidDelegation(delegation); err != nil {
		return Identity{}, err
	}
	if err := ValidName(name); err != nil {
		return Identity{}, err
	}
	if err := ValidRole(role); err != nil {
		return Identity{}, err
	}
	return Identity{
		Principal: OpenPrincipal(delegation, name),
		Author:    dr.Author{Delegation: delegation, Name: name},
		Role:      role,
	}, nil
}

// ValidDelegation checks a delegation code: 1–32 of A-Z a-z 0-9 _ . -
// ("CAN", "EU", "G77-China").
func ValidDelegation(s string) error {
	if !auth.ValidDelegation(s) {
		return Errorf(ErrUnauthorized, "delegation must be 1–32 of A-Z a-z 0-9 _ . -, got %q", clip(s))
	}
	return nil
}

// ValidName checks a person's name: 1–100 code points of valid UTF-8
// without control characters.
func ValidName(s string) error {
	n := utf8.RuneCountInString(s)
	if n == 0 || n > 100 || !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return Errorf(ErrUnauthorized, "name must be 1–100 printable characters")
	}
	return nil
}

// ValidRole checks a role name.
func ValidRole(s string) error {
	switch s {
	case dr.RoleFacilitator, dr.RoleDrafter, dr.RoleReviewer:
		return nil
	}
	return Errorf(ErrUnauthorized, "role must be facilitator, drafter or reviewer, got %q", clip(s))
}

// ValidDraftID checks a draft id: 1–128 of A-Z a-z 0-9 _ . -
func ValidDraftID(s string) error {
	if len(s) == 0 || len(s) > 128 || !allIDChars(s, true) {
		return Errorf(ErrBadRequest, "draft ids are 1–128 of A-Z a-z 0-9 _ . -, got %q", clip(s))
	}
	return nil
}

// ValidClientID checks a client id: 1–64 of A-Z a-z 0-9 _ -
func ValidClientID(s string) error {
	if len(s) == 0 || len(s) > 64 || !allIDChars(s, false) {
		return Errorf(ErrBadRequest, "client ids are 1–64 of A-Z a-z 0-9 _ -, got %q", clip(s))
	}
	return nil
}

func allIDChars(s string, dot bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '-':
		case c == '.' && dot:
		default:
			return false
		}
	}
	return true
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) <= 40 {
		return strings.ToValidUTF8(s, "?")
	}
	return strings.ToValidUTF8(s[:40], "?") + "…"
}

// tokenEndsOpenMode is /healthz's mode_reason once a token ended open mode
// chosen by default (a token was put in the store while the server ran).
const tokenEndsOpenMode = "a token from the store was used, which ends open mode chosen by default (restart with -open to keep it)"

// authenticator combines open mode and token auth: a credential with a
// token goes to tokens; without one, open mode decides.
type authenticator struct {
	open   *openMode
	tokens Authenticator
}

func (a authenticator) Hello(ctx context.Context, h Hello) (Identity, error) {
	if h.Token != "" {
		if a.tokens == nil {
			return Identity{}, Errorf(ErrUnauthorized, "this server does not accept tokens")
		}
		id, err := a.tokens.Hello(ctx, h)
		if err == nil {
			a.open.end(tokenEndsOpenMode)
		}
		return id, err
	}
	if err := a.open.allows(h.proxied); err != nil {
		return Identity{}, err
	}
	return OpenAuth{}.Hello(ctx, h)
}

func (a authenticator) Request(r *http.Request) (Identity, error) {
	if strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		if a.tokens == nil {
			return Identity{}, Errorf(ErrUnauthorized, "this server does not accept tokens")
		}
		id, err := a.tokens.Request(r)
		if err == nil {
			a.open.end(tokenEndsOpenMode)
		}
		return id, err
	}
	if err := a.open.allows(proxied(r.Header)); err != nil {
		if errors.Is(err, errNeedToken) {
			return Identity{}, Errorf(ErrUnauthorized, "a token is required (Authorization: Bearer <token>)")
		}
		return Identity{}, err
	}
	return OpenAuth{}.Request(r)
}
