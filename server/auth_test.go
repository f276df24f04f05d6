package server

import (
	"net/http/httptest"
	"testing"
)

// TestOpenAuthHeaderName: in open mode, a name outside ASCII arrives
// percent-encoded in X-Draftroom-Name (the web UI encodes with
// encodeURIComponent) and is recorded decoded; a value that is not
// percent-encoding is taken as it is.
func TestOpenAuthHeaderName(t *testing.T) {
	for _, c := range []struct{ header, want string }{
		{"Ana", "Ana"},
		{"%E7%94%B0%E4%B8%AD%20%E7%B4%94", "田中 純"},
		{"Fran%C3%A7ois%20%25%20Co", "François % Co"},
		{"50% share", "50% share"}, // not an escape: kept
		{"%FF%FE", "%FF%FE"},       // decodes to invalid UTF-8: kept
		{"Jos%C3%A9", "José"},
	} {
		r := httptest.NewRequest("POST", "/api/docs", nil)
		r.Header.Set(HeaderDelegation, "JPN")
		r.Header.Set(HeaderName, c.header)
		r.Header.Set(HeaderRole, "drafter")
		id, err := OpenAuth{}.Request(r)
		if err != nil {
			t.Errorf("%q: %v", c.header, err)
			continue
		}
		if id.Author.Name != c.want {
			t.Errorf("X-Draftroom-Name %q recorded as %q, want %q", c.header, id.Author.Name, c.want)
		}
	}
}
