// Package auth issues and checks the credentials delegations sign in with.
//
// A token is a random secret (256 bits from crypto/rand) shown once, when it
// is issued. The store keeps only its SHA-256 hash (dr.Token.Hash), so a
// leaked database does not leak credentials. A secret is looked up by its
// hash, then the stored hash is compared again in constant time; the lookup
// itself reveals nothing useful about a secret because finding a secret for a
// given hash is infeasible.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/storage"
)

// Errors a caller tells apart with errors.Is: a refused credential, an
// unauthorized *dr.Error whose message tells the person what to do.
var (
	// ErrInvalid: the secret is malformed or matches no token.
	ErrInvalid = &dr.Error{Code: dr.CodeUnauthorized, Message: "this token is not valid on this server"}
	// ErrRevoked: the token was revoked.
	ErrRevoked = &dr.Error{Code: dr.CodeUnauthorized, Message: "this token was revoked"}
	// ErrExpired: the token's expiry has passed.
	ErrExpired = &dr.Error{Code: dr.CodeUnauthorized, Message: "this token expired; ask a facilitator for a new one"}
)

// secretPrefix marks draftroom secrets so that they are recognisable in logs
// and secret scanners.
const secretPrefix = "drt_"

// Store is what auth needs from storage.
type Store interface {
	PutToken(ctx context.Context, t dr.Token) error
	Token(ctx context.Context, id string) (dr.Token, error)
	TokenByHash(ctx context.Context, hash string) (dr.Token, error)
	Tokens(ctx context.Context) ([]dr.Token, error)
	RevokeToken(ctx context.Context, id string, at int64) error
}

// Request describes a token to issue.
type Request struct {
	Delegation string
	Name       string
	Role       string
	Drafts     []string      // glob patterns (path.Match); empty: every draft
	TTL        time.Duration // 0: never expires
	IssuedBy   string        // the issuer's token id, or "cli"
}

// Check validates a request with the one rule for each field (package
// dr); its error is a *dr.Error (bad_request) that says what is wrong.
func (r Request) Check() error {
	for _, err := range []error{dr.ValidDelegation(r.Delegation), dr.ValidName(r.Name), dr.ValidRole(r.Role)} {
		if err != nil {
			return err
		}
	}
	if r.TTL < 0 {
		return dr.Errorf(dr.CodeBadRequest, "expiry must be positive")
	}
	for _, p := range r.Drafts {
		if _, err := path.Match(p, ""); err != nil || p == "" {
			return dr.Errorf(dr.CodeBadRequest, "draft pattern %q is not a valid glob", p)
		}
	}
	return nil
}

// Issue creates a token and returns its secret, which is not stored and
// cannot be shown again.
func Issue(ctx context.Context, st Store, r Request, now time.Time) (secret string, tok dr.Token, err error) {
	if err := r.Check(); err != nil {
		return "", dr.Token{}, err
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", dr.Token{}, fmt.Errorf("auth: random: %w", err)
	}
	var id [8]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", dr.Token{}, fmt.Errorf("auth: random: %w", err)
	}
	secret = secretPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	tok = dr.Token{
		ID:         hex.EncodeToString(id[:]),
		Hash:       Hash(secret),
		Delegation: r.Delegation,
		Name:       r.Name,
		Role:       r.Role,
		Drafts:     append([]string(nil), r.Drafts...),
		Created:    now.UnixMilli(),
		IssuedBy:   r.IssuedBy,
	}
	if r.TTL > 0 {
		tok.Expires = now.Add(r.TTL).UnixMilli()
	}
	if err := st.PutToken(ctx, tok); err != nil {
		return "", dr.Token{}, fmt.Errorf("auth: issue: %w", err)
	}
	return secret, tok, nil
}

// Hash is the stored form of a secret: hex SHA-256.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Verify returns the token a secret belongs to, if it is valid now. Errors
// wrap ErrInvalid, ErrRevoked or ErrExpired; store failures are returned
// wrapped as they are.
func Verify(ctx context.Context, st Store, secret string, now time.Time) (dr.Token, error) {
	if !strings.HasPrefix(secret, secretPrefix) || len(secret) > 128 {
		return dr.Token{}, ErrInvalid
	}
	h := Hash(secret)
	tok, err := st.TokenByHash(ctx, h)
	if errors.Is(err, storage.ErrNotFound) {
		return dr.Token{}, ErrInvalid
	}
	if err != nil {
		return dr.Token{}, fmt.Errorf("auth: verify: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(tok.Hash), []byte(h)) != 1 {
		return dr.Token{}, ErrInvalid
	}
	return tok, Valid(tok, now)
}

// Valid reports whether a token may be used at now: nil, or an error wrapping
// ErrRevoked or ErrExpired.
func Valid(tok dr.Token, now time.Time) error {
	if tok.Revoked != 0 {
		return ErrRevoked
	}
	if tok.Expires != 0 && now.UnixMilli() >= tok.Expires {
		return ErrExpired
	}
	return nil
}
