package loadtest

import (
	"strings"
	"testing"
)

func TestConverge(t *testing.T) {
	const a, b = "http://127.0.0.1:1", "http://127.0.0.1:2"
	server := map[DraftAt]ServerText{
		{a, "x"}: {Rev: 5, Text: "les États parties 🌍"},
		{a, "y"}: {Rev: 2, Text: "الدول الأطراف"},
		// Node b lags on x: its clients are compared with b's answer.
		{b, "x"}: {Rev: 4, Text: "les États 🌍"},
	}
	good := []ClientText{
		{Client: "w1", URL: a, Doc: "x", Rev: 5, Text: "les États parties 🌍"},
		{Client: "r1", URL: a, Doc: "y", Rev: 2, Text: "الدول الأطراف"},
		{Client: "r3", URL: b, Doc: "x", Rev: 4, Text: "les États 🌍"},
	}
	if ok, problems := Converge(server, good); !ok || len(problems) != 0 {
		t.Fatalf("matching texts: converged %v, problems %v", ok, problems)
	}
	cases := []struct {
		name   string
		client ClientText
		want   string
	}{
		{"text differs", ClientText{Client: "r2", URL: a, Doc: "x", Rev: 5, Text: "les Etats parties 🌍"}, "first difference at code point 4;"},
		{"emoji differs", ClientText{Client: "r2", URL: a, Doc: "x", Rev: 5, Text: "les États parties 😭"}, "first difference at code point 18"},
		{"behind", ClientText{Client: "r2", URL: a, Doc: "x", Rev: 4, Text: "les États parties 🌍"}, "at rev 4, server at 5"},
		{"other node's text", ClientText{Client: "r2", URL: b, Doc: "x", Rev: 5, Text: "les États parties 🌍"}, "via " + b + ": at rev 5, server at 4"},
		{"pending", ClientText{Client: "w2", URL: a, Doc: "y", Rev: 2, Text: "الدول الأطراف", Pending: true}, "unacked"},
		{"stopped", ClientText{Client: "w2", URL: a, Doc: "y", Rev: 2, Text: "الدول الأطراف", Err: "client: closed"}, "draft stopped"},
		{"unknown draft", ClientText{Client: "w2", URL: a, Doc: "c", Text: ""}, "unknown"},
		{"draft unknown on its node", ClientText{Client: "w2", URL: b, Doc: "y", Rev: 2, Text: "الدول الأطراف"}, "unknown"},
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
		bad = append(bad, ClientText{Client: "r", URL: a, Doc: "x", Rev: 1})
	}
	ok, problems := Converge(server, bad)
	if ok || len(problems) != maxDiverged+1 || problems[maxDiverged] != "... 15 more" {
		t.Fatalf("25 problems: converged %v, listed %d, last %q", ok, len(problems), problems[len(problems)-1])
	}
}

func TestAgree(t *testing.T) {
	const a, b, c = "http://127.0.0.1:1", "http://127.0.0.1:2", "http://127.0.0.1:3"
	urls, drafts := []string{a, b, c}, []string{"x", "y"}
	agreed := func() map[DraftAt]ServerText {
		m := map[DraftAt]ServerText{}
		for _, u := range urls {
			m[DraftAt{u, "x"}] = ServerText{Rev: 7, Text: "Article 17 🇫🇷"}
			m[DraftAt{u, "y"}] = ServerText{Rev: 0, Text: ""}
		}
		return m
	}
	if disagree, problems := Agree(urls, drafts, agreed()); len(disagree) != 0 || len(problems) != 0 {
		t.Fatalf("equal answers: disagree %v, problems %q", disagree, problems)
	}
	cases := []struct {
		name    string
		change  func(m map[DraftAt]ServerText)
		bad     string // the URL that disagrees
		problem string
	}{
		{"rev behind", func(m map[DraftAt]ServerText) { m[DraftAt{b, "x"}] = ServerText{Rev: 6, Text: "Article 17 🇫🇷"} }, b, "x: " + b + " at rev 6, " + a + " at rev 7"},
		{"text differs", func(m map[DraftAt]ServerText) { m[DraftAt{c, "x"}] = ServerText{Rev: 7, Text: "Article 17 🇪🇸"} }, c, "differ at rev 7 (first difference at code point 11"},
		{"missing on another", func(m map[DraftAt]ServerText) { delete(m, DraftAt{c, "y"}) }, c, "y: " + c + " did not return it"},
		{"missing on the first", func(m map[DraftAt]ServerText) { delete(m, DraftAt{a, "y"}) }, a, "y: " + a + " did not return it"},
		{"first differs from all others", func(m map[DraftAt]ServerText) { m[DraftAt{a, "y"}] = ServerText{Rev: 1, Text: "z"} }, "", "at rev 0, " + a + " at rev 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := agreed()
			tc.change(m)
			disagree, problems := Agree(urls, drafts, m)
			if len(disagree) == 0 || len(problems) == 0 {
				t.Fatalf("disagree %v, problems %q: want a disagreement", disagree, problems)
			}
			if tc.bad != "" && (len(disagree) != 1 || !disagree[tc.bad]) {
				t.Errorf("disagree %v, want only %s", disagree, tc.bad)
			}
			if !strings.Contains(strings.Join(problems, "\n"), tc.problem) {
				t.Errorf("problems %q, want one saying %q", problems, tc.problem)
			}
		})
	}
}
