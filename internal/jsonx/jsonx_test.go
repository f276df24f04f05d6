package jsonx

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// stdlib is what encoding/json writes for s with HTML escaping off.
func stdlib(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

func TestAppendString(t *testing.T) {
	for s, want := range map[string]string{
		"":                          `""`,
		`q"uo\te`:                   `"q\"uo\\te"`,
		"tab\tnl\ncr\r\b\f\x00\x1f": `"tab\tnl\ncr\r\b\f\u0000\u001f"`,
		"ls\u2028ps\u2029":          `"ls\u2028ps\u2029"`,
		"😀 عربي <&>":                `"😀 عربي <&>"`,
		"bad\xffutf8\xc3":           `"bad\ufffdutf8\ufffd"`,
	} {
		if got := string(AppendString([]byte("x"), s)); got != "x"+want {
			t.Errorf("%q: got %s, want x%s", s, got, want)
		}
	}
}

// FuzzAppendString: the hand-written encoder writes strings exactly as
// encoding/json does with HTML escaping off.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `q"uo\te`, "tab\tnl\ncr\r\b\f\x00\x1f", "ls\u2028ps\u2029", "😀 عربي 中文", "bad\xffutf8\xc3", "<&>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(AppendString(nil, s)), stdlib(s); got != want {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
	})
}
