package loadtest

import (
	"strings"
	"testing"
)

func TestConverge(t *testing.T) {
	server := map[string]ServerText{
		"a": {Rev: 5, Text: "les États parties 🌍"},
		"b": {Rev: 2, Text: "الدول الأطراف"},
	}
	good := []ClientText{
		{Client: "w1", Doc: "a", Rev: 5, Text: "les États parties 🌍"},
		{Client: "r1", Doc: "b", Rev: 2, Text: "الدول الأطراف"},
	}
	if ok, problems := Converge(server, good); !ok || len(problems) != 0 {
		t.Fatalf("matching texts: converged %v, problems %v", ok, problems)
	}
	cases := []struct {
		name   string
		client ClientText
		want   string
	}{
		{"text differs", ClientText{Client: "r2", Doc: "a", Rev: 5, Text: "les Etats parties 🌍"}, "first difference at code point 4;"},
		{"emoji differs", ClientText{Client: "r2", Doc: "a", Rev: 5, Text: "les États parties 😭"}, "first difference at code point 18"},
		{"behind", ClientText{Client: "r2", Doc: "a", Rev: 4, Text: "les États parties 🌍"}, "at rev 4, server at 5"},
		{"pending", ClientText{Client: "w2", Doc: "b", Rev: 2, Text: "الدول الأطراف", Pending: true}, "unacked"},
		{"stopped", ClientText{Client: "w2", Doc: "b", Rev: 2, Text: "الدول الأطراف", Err: "client: closed"}, "draft stopped"},
		{"unknown draft", ClientText{Client: "w2", Doc: "c", Text: ""}, "unknown"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ok, problems := Converge(server, append(append([]ClientText(nil), good...), c.client))
			if ok {
				t.Fatalf("converged with %+v", c.client)
			}
			if len(problems) != 1 || !strings.Contains(problems[0], c.want) || !strings.Contains(problems[0], c.client.Client) {
				t.Fatalf("problems %q, want one naming %s and saying %q", problems, c.client.Client, c.want)
			}
		})
	}
	// Many problems are capped, with a count of the rest.
	var bad []ClientText
	for range 25 {
		bad = append(bad, ClientText{Client: "r", Doc: "a", Rev: 1})
	}
	ok, problems := Converge(server, bad)
	if ok || len(problems) != maxDiverged+1 || problems[maxDiverged] != "... 15 more" {
		t.Fatalf("25 problems: converged %v, listed %d, last %q", ok, len(problems), problems[len(problems)-1])
	}
}
