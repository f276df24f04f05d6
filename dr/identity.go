package dr

import (
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Identity is who is behind a connection or an HTTP request. It always
// comes from the credential (a token, or an open-mode sign-in), never from
// what a message claims.
type Identity struct {
	// Principal scopes dedupe (Op.Principal): TokenPrincipal for a token,
	// OpenPrincipal in open mode, "system" for server-built ops. Never sent
	// to clients.
	Principal string
	Author    Author
	Role      string
	// Drafts are path.Match patterns of the draft ids this identity may
	// access; empty means all (Token.Drafts).
	Drafts []string
	// TokenID is the token's id, "" in open mode.
	TokenID string
}

// CanEdit reports whether the role may submit ops and presence beyond
// reading (facilitators and drafters).
func (id Identity) CanEdit() bool {
	return id.Role == RoleFacilitator || id.Role == RoleDrafter
}

// IsFacilitator reports whether the role manages drafts.
func (id Identity) IsFacilitator() bool { return id.Role == RoleFacilitator }

// CanAccess reports whether the identity may see draft id: no patterns
// means every draft, otherwise one of them must match.
func (id Identity) CanAccess(draft string) bool {
	if len(id.Drafts) == 0 {
		return true
	}
	for _, p := range id.Drafts {
		if ok, _ := path.Match(p, draft); ok {
			return true
		}
	}
	return false
}

// TokenPrincipal is the identity scope of token id.
func TokenPrincipal(tokenID string) string { return "tok:" + tokenID }

// OpenPrincipal is the identity scope of an open-mode sign-in.
func OpenPrincipal(delegation, name string) string { return "open:" + delegation + "/" + name }

// The validators below are the one rule for each identifier and name.
// Each returns nil or an *Error with CodeBadRequest and a message that says
// the rule; a caller whose protocol answers with another code (a refused
// hello is unauthorized) wraps it: Errorf(CodeUnauthorized, "%w", err).

// ValidRole checks a role name: facilitator, drafter or reviewer.
func ValidRole(s string) error {
	switch s {
	case RoleFacilitator, RoleDrafter, RoleReviewer:
		return nil
	}
	return Errorf(CodeBadRequest, "role must be facilitator, drafter or reviewer, got %q", Clip(s))
}

// ValidDelegation checks a delegation code: 1–32 of A-Z a-z 0-9 _ . -
// ("CAN", "EU", "G77-China"), for tokens and open-mode sign-ins alike.
func ValidDelegation(s string) error {
	if len(s) == 0 || len(s) > 32 || !idChars(s, true) {
		return Errorf(CodeBadRequest, "delegation must be 1–32 of A-Z a-z 0-9 _ . -, got %q", Clip(s))
	}
	return nil
}

// MaxNameLen bounds a person's name, in code points.
const MaxNameLen = 100

// ValidName checks a person's name: 1–MaxNameLen code points of valid
// UTF-8, no control characters (C0, DEL, C1), not only blanks.
func ValidName(s string) error {
	n := utf8.RuneCountInString(s)
	if n == 0 || n > MaxNameLen || !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return Errorf(CodeBadRequest, "name must be 1–%d printable characters", MaxNameLen)
	}
	if strings.TrimSpace(s) == "" {
		return Errorf(CodeBadRequest, "name must not be only blanks")
	}
	return nil
}

// ValidDraftID checks a draft id: 1–128 of A-Z a-z 0-9 _ . -
func ValidDraftID(s string) error {
	if len(s) == 0 || len(s) > 128 || !idChars(s, true) {
		return Errorf(CodeBadRequest, "draft ids are 1–128 of A-Z a-z 0-9 _ . -, got %q", Clip(s))
	}
	return nil
}

// ValidClientID checks a client id: 1–64 of A-Z a-z 0-9 _ -
func ValidClientID(s string) error {
	if len(s) == 0 || len(s) > 64 || !idChars(s, false) {
		return Errorf(CodeBadRequest, "client ids are 1–64 of A-Z a-z 0-9 _ -, got %q", Clip(s))
	}
	return nil
}

// idChars reports whether s is only A-Z a-z 0-9 _ - (and . if dot).
func idChars(s string, dot bool) bool {
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

// MaxLabelLen bounds a label's name, in code points.
const MaxLabelLen = 100

// ValidLabelName checks a label's name: 1–MaxLabelLen printable code
// points of valid UTF-8, not a number (it would read as a revision), no leading or
// trailing blanks.
func ValidLabelName(name string) error {
	n := utf8.RuneCountInString(name)
	switch {
	case n == 0:
		return Errorf(CodeBadRequest, "a label needs a name")
	case n > MaxLabelLen:
		return Errorf(CodeBadRequest, "a label's name is at most %d characters", MaxLabelLen)
	case IsDigits(name) || (name[0] == '-' && IsDigits(name[1:])):
		return Errorf(CodeBadRequest, "a label's name must not be a number (it would read as a revision)")
	case strings.TrimSpace(name) != name:
		return Errorf(CodeBadRequest, "a label's name must not begin or end with blanks")
	}
	if !utf8.ValidString(name) {
		return Errorf(CodeBadRequest, "a label's name must be printable text")
	}
	for _, r := range name {
		if !unicode.IsPrint(r) && r != ' ' {
			return Errorf(CodeBadRequest, "a label's name must be printable text")
		}
	}
	return nil
}

// IsDigits reports whether s is one or more ASCII digits: a revision
// number where a revision or a label's name is accepted.
func IsDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// MaxTitleLen bounds a draft's title, in code points.
const MaxTitleLen = 200

// ValidTitle checks a draft's title: at most MaxTitleLen code points. A
// new draft may have an empty title; a rename may not (DraftPatch.Check).
func ValidTitle(title string) error {
	if utf8.RuneCountInString(title) > MaxTitleLen {
		return Errorf(CodeBadRequest, "titles are at most %d characters", MaxTitleLen)
	}
	return nil
}

// Check refuses a patch (DraftPatch, in store.go) that changes nothing,
// or that would leave a draft without a title or with one longer than
// MaxTitleLen (CodeBadRequest).
func (p DraftPatch) Check() error {
	if p.Title == nil && p.Archived == nil {
		return Errorf(CodeBadRequest, "a change needs title, archived or both")
	}
	if p.Title != nil {
		if strings.TrimSpace(*p.Title) == "" {
			return Errorf(CodeBadRequest, "a title cannot be empty")
		}
		return ValidTitle(*p.Title)
	}
	return nil
}

// Clip shortens s, which a client sent, for an error message: at most 40
// bytes, invalid UTF-8 replaced, "…" if cut.
func Clip(s string) string {
	if len(s) <= 40 {
		return strings.ToValidUTF8(s, "?")
	}
	return strings.ToValidUTF8(s[:40], "?") + "…"
}
