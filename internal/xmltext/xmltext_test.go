package xmltext

import (
	"encoding/xml"
	"strings"
	"testing"
)

func TestEscape(t *testing.T) {
	for _, c := range []struct {
		in         string
		attr       bool
		want       string
		parsedBack string // what an XML parser reads back
	}{
		{`a<b>&"c"`, false, `a&lt;b&gt;&amp;"c"`, `a<b>&"c"`},
		{`a<b>&"c"`, true, `a&lt;b&gt;&amp;&quot;c&quot;`, `a<b>&"c"`},
		{"line\nnext\tcol", false, "line\nnext\tcol", "line\nnext\tcol"},
		{"line\nnext\tcol", true, "line&#10;next&#9;col", "line\nnext\tcol"},
		{"cr\rhere", false, "cr&#13;here", "cr\rhere"},
		{"bell\x07 \uFFFE \xff ok \uFFFD", false, "bell\uFFFD \uFFFD \uFFFD ok \uFFFD", "bell\uFFFD \uFFFD \uFFFD ok \uFFFD"},
		{"المادة 17 第十七条 😭", false, "المادة 17 第十七条 😭", "المادة 17 第十七条 😭"},
	} {
		var b strings.Builder
		Escape(&b, c.in, c.attr)
		if b.String() != c.want {
			t.Errorf("Escape(%q, attr %v) = %q, want %q", c.in, c.attr, b.String(), c.want)
		}
		var v struct {
			A    string `xml:"a,attr"`
			Text string `xml:",chardata"`
		}
		doc := "<x>" + b.String() + "</x>"
		if c.attr {
			doc = `<x a="` + b.String() + `"/>`
		}
		if err := xml.Unmarshal([]byte(doc), &v); err != nil {
			t.Fatalf("%q does not parse: %v", doc, err)
		}
		got := v.Text
		if c.attr {
			got = v.A
		}
		if got != c.parsedBack {
			t.Errorf("%q parses back as %q, want %q", doc, got, c.parsedBack)
		}
	}
}
