package dr

import (
	"strings"
	"testing"
)

// check runs validate on each input and compares acceptance; a refusal
// must be a bad_request *Error whose message is for people.
func check(t *testing.T, name string, validate func(string) error, cases map[string]bool) {
	t.Helper()
	for in, want := range cases {
		err := validate(in)
		if (err == nil) != want {
			t.Errorf("%s(%q) = %v, want ok=%v", name, in, err, want)
			continue
		}
		if err != nil && (ErrorCode(err) != CodeBadRequest || ErrorMessage(err) == InternalMessage || !strings.Contains(ErrorMessage(err), " ")) {
			t.Errorf("%s(%q) = %#v, want a bad_request *Error with words", name, in, err)
		}
	}
}

func TestValidDelegation(t *testing.T) {
	check(t, "ValidDelegation", ValidDelegation, map[string]bool{
		"CAN": true, "EU": true, "G77-China": true, "G77.China": true, "a_b": true,
		strings.Repeat("A", 32): true, strings.Repeat("A", 33): false,
		"": false, "C N": false, "É": false, "CAN/USA": false, "CAN\x00": false,
	})
}

// TestValidName holds the cases of both former rules, server's (hello:
// valid UTF-8, no control characters) and auth's (tokens: no C0, DEL or C1
// controls, not only blanks): the one rule refuses what either refused.
func TestValidName(t *testing.T) {
	check(t, "ValidName", ValidName, map[string]bool{
		"Ana Silva": true, "Zhāng Wěi 张伟": true, "田中 純": true, "O'Brien-Smith": true,
		strings.Repeat("é", 100): true, strings.Repeat("é", 101): false,
		"": false, "A\x00na": false, "tab\there": false, "line\nbreak": false, "del\x7f": false,
		"c1\u0085": false, "bad\xffutf8": false,
		" ": false, " \t ": false, "\u00a0": false, // only blanks: auth refused, server took them
		" Ana ": true, // blanks around a name are printable; trimming is the UI's business
	})
	// A name refused for its characters keeps the hello's words; one of
	// blanks only says so.
	if got := ErrorMessage(ValidName("A\x00na")); got != "name must be 1–100 printable characters" {
		t.Errorf("control character: message %q", got)
	}
	if got := ErrorMessage(ValidName("   ")); got != "name must not be only blanks" {
		t.Errorf("blanks: message %q", got)
	}
}

func TestValidRole(t *testing.T) {
	check(t, "ValidRole", ValidRole, map[string]bool{
		RoleFacilitator: true, RoleDrafter: true, RoleReviewer: true,
		"": false, "admin": false, "Drafter": false,
	})
}

func TestValidDraftIDAndClientID(t *testing.T) {
	check(t, "ValidDraftID", ValidDraftID, map[string]bool{
		"art-17": true, "annex_1.v2": true, strings.Repeat("a", 128): true,
		strings.Repeat("a", 129): false, "": false, "art 17": false, "art/17": false, "é": false,
	})
	check(t, "ValidClientID", ValidClientID, map[string]bool{
		"c1": true, "web-3f_9": true, strings.Repeat("c", 64): true,
		strings.Repeat("c", 65): false, "": false, "c.1": false, "c 1": false,
	})
}

func TestValidLabelName(t *testing.T) {
	check(t, "ValidLabelName", ValidLabelName, map[string]bool{
		"Chair's text, session 4": true, "v1": true, "2026-11-23": true, strings.Repeat("x", 100): true,
		"": false, strings.Repeat("x", 101): false, "12": false, "-3": false,
		" lead": false, "trail ": false, "bell\a": false,
	})
}

func TestValidTitleAndDraftPatch(t *testing.T) {
	check(t, "ValidTitle", ValidTitle, map[string]bool{
		"": true, "Article 17": true, strings.Repeat("é", MaxTitleLen): true, strings.Repeat("é", MaxTitleLen+1): false,
	})
	str := func(s string) *string { return &s }
	yes := true
	for _, tc := range []struct {
		name string
		p    DraftPatch
		ok   bool
	}{
		{"nothing", DraftPatch{}, false},
		{"archive", DraftPatch{Archived: &yes}, true},
		{"title", DraftPatch{Title: str("Article 5")}, true},
		{"empty title", DraftPatch{Title: str(""), Archived: &yes}, false},
		{"blank title", DraftPatch{Title: str(" \t ")}, false},
		{"long title", DraftPatch{Title: str(strings.Repeat("é", MaxTitleLen+1))}, false},
	} {
		err := tc.p.Check()
		if (err == nil) != tc.ok || (err != nil && ErrorCode(err) != CodeBadRequest) {
			t.Errorf("%s: Check() = %v, want ok=%v (or a bad_request)", tc.name, err, tc.ok)
		}
	}
}

func TestIdentity(t *testing.T) {
	for _, tc := range []struct {
		role              string
		edit, facilitator bool
	}{
		{RoleFacilitator, true, true}, {RoleDrafter, true, false}, {RoleReviewer, false, false}, {"", false, false},
	} {
		id := Identity{Role: tc.role}
		if id.CanEdit() != tc.edit || id.IsFacilitator() != tc.facilitator {
			t.Errorf("role %q: CanEdit %v, IsFacilitator %v; want %v, %v", tc.role, id.CanEdit(), id.IsFacilitator(), tc.edit, tc.facilitator)
		}
	}
	for _, tc := range []struct {
		patterns []string
		draft    string
		want     bool
	}{
		{nil, "art-17", true},
		{[]string{"art-*"}, "art-17", true},
		{[]string{"art-*"}, "annex-1", false},
		{[]string{"annex-1", "art-1?"}, "art-17", true},
		{[]string{"art-1?"}, "art-170", false},
	} {
		if got := (Identity{Drafts: tc.patterns}).CanAccess(tc.draft); got != tc.want {
			t.Errorf("CanAccess(%v, %q) = %v, want %v", tc.patterns, tc.draft, got, tc.want)
		}
	}
	if OpenPrincipal("CAN", "Ana") != "open:CAN/Ana" || TokenPrincipal("ab12") != "tok:ab12" {
		t.Errorf("principals: %q, %q", OpenPrincipal("CAN", "Ana"), TokenPrincipal("ab12"))
	}
}

func TestClip(t *testing.T) {
	for in, want := range map[string]string{
		"short":                 "short",
		"bad\xff":               "bad?",
		strings.Repeat("a", 41): strings.Repeat("a", 40) + "…",
	} {
		if got := Clip(in); got != want {
			t.Errorf("Clip(%q) = %q, want %q", in, got, want)
		}
	}
}
