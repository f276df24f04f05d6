package dr

import (
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// Independent statements of the rules (docs/PROTOCOL.md), as regular
// expressions and loops, to check the validators against on any input.
var (
	delegationRule = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,32}$`)
	draftIDRule    = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)
	clientIDRule   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

func nameRule(s string) bool {
	if !utf8.ValidString(s) || strings.TrimSpace(s) == "" {
		return false
	}
	n := 0
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return false
		}
		n++
	}
	return n <= MaxNameLen
}

// FuzzValidators: each validator accepts exactly what its rule says, and
// refuses with a bad_request *Error whose message is valid UTF-8 (it
// quotes the input clipped).
func FuzzValidators(f *testing.F) {
	for _, s := range []string{"", "CAN", "G77.China", "art-17", "c_1", "Ana Silva", " ", "\u00a0", "A\x00na", "\xff", "c1\u0085", strings.Repeat("é", 101)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, v := range []struct {
			name     string
			validate func(string) error
			rule     func(string) bool
		}{
			{"ValidDelegation", ValidDelegation, delegationRule.MatchString},
			{"ValidDraftID", ValidDraftID, draftIDRule.MatchString},
			{"ValidClientID", ValidClientID, clientIDRule.MatchString},
			{"ValidName", ValidName, nameRule},
			{"ValidLabelName", ValidLabelName, func(s string) bool {
				n := utf8.RuneCountInString(s)
				return n >= 1 && n <= MaxLabelLen && utf8.ValidString(s) && !IsDigits(strings.TrimPrefix(s, "-")) &&
					strings.TrimSpace(s) == s && strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) && r != ' ' }) < 0
			}},
		} {
			err := v.validate(s)
			if want := v.rule(s); (err == nil) != want {
				t.Fatalf("%s(%q) = %v, want ok=%v", v.name, s, err, want)
			}
			if err != nil && (ErrorCode(err) != CodeBadRequest || !utf8.ValidString(ErrorMessage(err))) {
				t.Fatalf("%s(%q) = %#v, want a bad_request *Error with a valid UTF-8 message", v.name, s, err)
			}
		}
	})
}
