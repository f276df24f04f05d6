package auth

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/storage"
)

// fakeStore keeps tokens in maps; storage.Memory is checked against the same
// behaviour by the storage contract suite.
type fakeStore struct {
	mu   sync.Mutex
	byID map[string]dr.Token
}

func newFake() *fakeStore { return &fakeStore{byID: map[string]dr.Token{}} }

func (f *fakeStore) PutToken(_ context.Context, t dr.Token) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.byID[t.ID]; ok {
		return storage.ErrExists
	}
	f.byID[t.ID] = t
	return nil
}
func (f *fakeStore) Token(_ context.Context, id string) (dr.Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.byID[id]
	if !ok {
		return t, storage.ErrNotFound
	}
	return t, nil
}
func (f *fakeStore) TokenByHash(_ context.Context, h string) (dr.Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range f.byID {
		if t.Hash == h {
			return t, nil
		}
	}
	return dr.Token{}, storage.ErrNotFound
}
func (f *fakeStore) Tokens(context.Context) ([]dr.Token, error) { return nil, nil }
func (f *fakeStore) RevokeToken(_ context.Context, id string, at int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.byID[id]
	if !ok {
		return storage.ErrNotFound
	}
	t.Revoked = at
	f.byID[id] = t
	return nil
}

func TestIssueVerify(t *testing.T) {
	ctx := context.Background()
	st := newFake()
	now := time.UnixMilli(1795000000000)
	secret, tok, err := Issue(ctx, st, Request{Delegation: "CAN", Name: "Ana Silva", Role: "drafter", Drafts: []string{"art-*"}, TTL: time.Hour}, now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "drt_") || len(secret) < 40 {
		t.Fatalf("secret %q: want drt_ and at least 256 bits", secret)
	}
	stored, _ := st.Token(ctx, tok.ID)
	if strings.Contains(stored.Hash, secret) || stored.Hash == secret || stored.Hash != Hash(secret) {
		t.Fatalf("stored hash %q: want the SHA-256 of the secret, never the secret", stored.Hash)
	}
	got, err := Verify(ctx, st, secret, now.Add(time.Minute))
	if err != nil || got.ID != tok.ID || got.Delegation != "CAN" || got.Role != "drafter" {
		t.Fatalf("Verify = %+v, %v; want token %s", got, err, tok.ID)
	}
	if _, err := Verify(ctx, st, secret, now.Add(2*time.Hour)); !errors.Is(err, ErrExpired) {
		t.Fatalf("after expiry: got %v, want ErrExpired", err)
	}
	if _, err := Verify(ctx, st, secret+"x", now); !errors.Is(err, ErrInvalid) {
		t.Fatalf("wrong secret: got %v, want ErrInvalid", err)
	}
	if _, err := Verify(ctx, st, "nonsense", now); !errors.Is(err, ErrInvalid) {
		t.Fatalf("malformed secret: got %v, want ErrInvalid", err)
	}
	if err := st.RevokeToken(ctx, tok.ID, now.UnixMilli()); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(ctx, st, secret, now); !errors.Is(err, ErrRevoked) {
		t.Fatalf("after revoke: got %v, want ErrRevoked", err)
	}
}

func TestIssueDistinctSecrets(t *testing.T) {
	st := newFake()
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		s, tok, err := Issue(context.Background(), st, Request{Delegation: "EU", Name: "N", Role: "reviewer"}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if seen[s] || seen[tok.ID] {
			t.Fatalf("secret or id repeated after %d issues", i)
		}
		seen[s], seen[tok.ID] = true, true
		if tok.Expires != 0 {
			t.Fatalf("no TTL: Expires = %d, want 0", tok.Expires)
		}
	}
}

func TestRequestCheck(t *testing.T) {
	ok := Request{Delegation: "CAN", Name: "Ana", Role: "facilitator"}
	tests := []struct {
		name string
		edit func(*Request)
		ok   bool
	}{
		{"valid", func(*Request) {}, true},
		{"empty delegation", func(r *Request) { r.Delegation = "" }, false},
		{"delegation with space", func(r *Request) { r.Delegation = "C AN" }, false},
		{"long delegation", func(r *Request) { r.Delegation = strings.Repeat("A", 33) }, false},
		{"dotted delegation", func(r *Request) { r.Delegation = "G77.China" }, true},
		{"empty name", func(r *Request) { r.Name = " " }, false},
		{"control char in name", func(r *Request) { r.Name = "A\x00na" }, false},
		{"unicode name", func(r *Request) { r.Name = "Zhāng Wěi 张伟" }, true},
		{"unknown role", func(r *Request) { r.Role = "admin" }, false},
		{"bad glob", func(r *Request) { r.Drafts = []string{"art-["} }, false},
		{"good glob", func(r *Request) { r.Drafts = []string{"art-*", "annex"} }, true},
		{"negative ttl", func(r *Request) { r.TTL = -time.Second }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ok
			tt.edit(&r)
			err := r.Check()
			if (err == nil) != tt.ok {
				t.Fatalf("Check() = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && dr.ErrorCode(err) != dr.CodeBadRequest {
				t.Fatalf("Check() = %v, want a bad_request *dr.Error", err)
			}
		})
	}
}

// TestRequestCheckWords: a refused request says the rule it broke, the
// same words a refused hello uses (the token form once said delegations
// are "A-Z a-z 0-9 _ -" while it took "G77.China").
func TestRequestCheckWords(t *testing.T) {
	ok := Request{Delegation: "CAN", Name: "Ana", Role: "facilitator"}
	bad := ok
	bad.Delegation = "C AN"
	if got, want := dr.ErrorMessage(bad.Check()), dr.ErrorMessage(dr.ValidDelegation("C AN")); got != want || !strings.Contains(got, "_ . -") {
		t.Errorf("bad delegation: %q, want %q (naming every character the rule takes)", got, want)
	}
	bad = ok
	bad.Role = "admin"
	if got := dr.ErrorMessage(bad.Check()); got != `role must be facilitator, drafter or reviewer, got "admin"` {
		t.Errorf("bad role: %q", got)
	}
}
