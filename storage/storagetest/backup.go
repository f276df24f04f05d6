package storagetest

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
)

// Restore opens, as a store of its own, a copy that a store's Backup
// wrote; RunWithBackups checks that it holds what the original held. The
// returned store is closed by the suite.
type Restore func(t *testing.T, copy []byte) dr.Store

// testHealth: a store that takes writes says so, before and after it took
// some (Health after Close is testClose's).
func testHealth(t *testing.T, s dr.Store) {
	if err := s.Health(); err != nil {
		t.Fatalf("Health of a fresh store: %v", err)
	}
	mustCreate(t, s, "d", "abc")
	mustCommit(t, s, "d", 0, dr.Commit{Ops: run(0, 3, "c")})
	if err := s.Health(); err != nil {
		t.Errorf("Health after a commit: %v", err)
	}
}

// populate gives s one of every record Backup must copy: a draft with ops,
// a later snapshot, bracket records and labels, tokens and audit entries.
func populate(t *testing.T, s dr.Store) {
	t.Helper()
	ctx := context.Background()
	mustCreate(t, s, "art-17", multilingo)
	mustCreate(t, s, "annex", "")
	c := dr.Commit{Ops: run(0, 4, "c")}
	c.Ops[1].Kind, c.Ops[1].Group = dr.KindPropose, "b1.0"
	c.Proposals = []dr.Proposal{{Draft: "art-17", Group: "b1.0", Alternative: 1, Text: "shall", By: jun, Rev: 2, TS: created + 2}}
	c.Decisions = []dr.Decision{{Draft: "art-17", Group: "b1.0", Alternatives: []string{"shall", "may"}, Choice: dr.ChoiceChoose, Index: 1, Result: "may", By: ana, Rev: 3, TS: created + 3}}
	c.Snapshots = []dr.Snapshot{{Rev: 4, Text: "4·3·2·1·" + multilingo}}
	mustCommit(t, s, "art-17", 0, c)
	if err := s.PutLabel(ctx, dr.Label{Draft: "art-17", Name: "Chair's text", Rev: 3, By: ana, TS: created + 10}); err != nil {
		t.Fatalf("PutLabel: %v", err)
	}
	if err := s.PutToken(ctx, dr.Token{ID: "t1", Hash: "aa11", Delegation: "EGY", Name: "ليلى", Role: dr.RoleDrafter, Drafts: []string{"art-*"}, Created: created}); err != nil {
		t.Fatalf("PutToken: %v", err)
	}
	if err := s.RevokeToken(ctx, "t1", created+20); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	for _, a := range []string{"token.issue", "label"} {
		if _, err := s.AppendAudit(ctx, dr.AuditEntry{TS: created, Actor: laya, Action: a, Draft: "art-17"}); err != nil {
			t.Fatalf("AppendAudit: %v", err)
		}
	}
}

// contents is everything populate wrote, as read back.
type contents struct {
	Drafts []dr.Draft
	Draft  state
	Labels []dr.Label
	Tokens []dr.Token
	Audit  []dr.AuditEntry
}

func read(t *testing.T, s dr.Store) contents {
	t.Helper()
	ctx := context.Background()
	var c contents
	var err error
	if c.Drafts, err = s.Drafts(ctx); err != nil {
		t.Fatalf("Drafts: %v", err)
	}
	c.Draft = capture(t, s, "art-17", edit(1, "c", 1, nil))
	if c.Labels, err = s.Labels(ctx, "art-17"); err != nil {
		t.Fatalf("Labels: %v", err)
	}
	if c.Tokens, err = s.Tokens(ctx); err != nil {
		t.Fatalf("Tokens: %v", err)
	}
	if c.Audit, err = s.Audit(ctx, 0, 0); err != nil {
		t.Fatalf("Audit: %v", err)
	}
	return c
}

// testBackup: with restore, Backup writes as many bytes as it says, and
// the copy holds every record the store held, while the store goes on
// serving (a commit after the backup is not in the copy). Without
// restore, the backend takes no backups: Backup says so with
// errors.ErrUnsupported and writes nothing.
func testBackup(t *testing.T, s dr.Store, restore Restore) {
	ctx := context.Background()
	populate(t, s)
	want := read(t, s)
	var buf bytes.Buffer
	n, err := s.Backup(ctx, &buf)
	if restore == nil {
		if !errors.Is(err, errors.ErrUnsupported) || n != 0 || buf.Len() != 0 {
			t.Fatalf("Backup of a store without backups: %d bytes written (said %d), err %v; want nothing and errors.ErrUnsupported", buf.Len(), n, err)
		}
	} else {
		if err != nil {
			t.Fatalf("Backup: %v", err)
		}
		if n != int64(buf.Len()) || n == 0 {
			t.Fatalf("Backup said %d bytes, wrote %d", n, buf.Len())
		}
	}
	// The store serves on.
	mustCommit(t, s, "art-17", 4, dr.Commit{Ops: []dr.Op{edit(5, "c", 5, ot.Op{{Insert: "after"}})}})
	if restore == nil {
		return
	}
	cp := restore(t, buf.Bytes())
	t.Cleanup(func() { cp.Close() })
	if got := read(t, cp); !same(got, want) {
		t.Errorf("the backup's copy:\ngot  %+v\nwant %+v", got, want)
	}
}
