package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/draftroom/draftroom/dr"
)

// Hello is the credential part of a hello message.
type Hello struct {
	Client     string
	Token      string
	Delegation string
	Name       string
	Role       string

	proxied bool // the WebSocket came through a reverse proxy (openMode.allows)
}

// Authenticator turns a credential into a dr.Identity. Token authentication
// (issue 8) implements it; OpenAuth is open mode. A refusal is a *dr.Error,
// unauthorized (bad or missing credential) or bad_request, whose message is
// shown to the client.
type Authenticator interface {
	// Hello authenticates a WebSocket hello.
	Hello(ctx context.Context, h Hello) (dr.Identity, error)
	// Request authenticates an HTTP request.
	Request(r *http.Request) (dr.Identity, error)
}

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
func (OpenAuth) Hello(_ context.Context, h Hello) (dr.Identity, error) {
	return openIdentity(h.Delegation, h.Name, h.Role)
}

// Request uses the X-Draftroom-* headers, or the open-mode facilitator
// when none is set.
func (OpenAuth) Request(r *http.Request) (dr.Identity, error) {
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

// openIdentity is the identity an open-mode hello or request names. A
// field that breaks its rule refuses the sign-in: unauthorized, in the
// rule's words.
func openIdentity(delegation, name, role string) (dr.Identity, error) {
	for _, err := range []error{dr.ValidDelegation(delegation), dr.ValidName(name), dr.ValidRole(role)} {
		if err != nil {
			return dr.Identity{}, dr.Errorf(dr.CodeUnauthorized, "%w", err)
		}
	}
	return dr.Identity{
		Principal: dr.OpenPrincipal(delegation, name),
		Author:    dr.Author{Delegation: delegation, Name: name},
		Role:      role,
	}, nil
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

func (a authenticator) Hello(ctx context.Context, h Hello) (dr.Identity, error) {
	if h.Token != "" {
		if a.tokens == nil {
			return dr.Identity{}, dr.Errorf(dr.CodeUnauthorized, "this server does not accept tokens")
		}
		id, err := a.tokens.Hello(ctx, h)
		if err == nil {
			a.open.end(tokenEndsOpenMode)
		}
		return id, err
	}
	if err := a.open.allows(h.proxied); err != nil {
		return dr.Identity{}, err
	}
	return OpenAuth{}.Hello(ctx, h)
}

func (a authenticator) Request(r *http.Request) (dr.Identity, error) {
	if strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		if a.tokens == nil {
			return dr.Identity{}, dr.Errorf(dr.CodeUnauthorized, "this server does not accept tokens")
		}
		id, err := a.tokens.Request(r)
		if err == nil {
			a.open.end(tokenEndsOpenMode)
		}
		return id, err
	}
	if err := a.open.allows(proxied(r.Header)); err != nil {
		if errors.Is(err, errNeedToken) {
			return dr.Identity{}, dr.Errorf(dr.CodeUnauthorized, "a token is required (Authorization: Bearer <token>)")
		}
		return dr.Identity{}, err
	}
	return OpenAuth{}.Request(r)
}
