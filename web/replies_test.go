package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/draftroom/draftroom/internal/testenv"
	"github.com/draftroom/draftroom/server"
	"github.com/draftroom/draftroom/storage"
)

// TestReadersReadTheServersReplies: the readers of web/src/shapes.js, which
// the panels read every listing through, read what the real server sends.
// A draft gets groups, a proposal, a resolution, an import, a label and an
// agreed provision; each listing the panels ask for is fetched and handed to
// web/check-replies.mjs, which applies the reader to it. A change of shape
// on either side fails here, naming the field, instead of in a browser.
func TestReadersReadTheServersReplies(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.MissingTool(t, "node not installed: cannot run web/check-replies.mjs (install Node 20 to run it)")
	}
	if _, err := os.Stat(filepath.Join("node_modules", "ot-text-unicode")); err != nil {
		testenv.MissingTool(t, "web/node_modules missing: run `npm ci` in web/ (TestNodeUnitTests does it when npm is installed)")
	}
	srv := server.New(server.Config{Open: true}, storage.NewMemory(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	call := func(method, path string, body any, out any) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, ts.URL+path, rd)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Draftroom-Delegation", "CHAIR")
		req.Header.Set("X-Draftroom-Name", "Maria")
		req.Header.Set("X-Draftroom-Role", "facilitator")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer res.Body.Close()
		data, _ := io.ReadAll(res.Body)
		if res.StatusCode >= 300 {
			t.Fatalf("%s %s: HTTP %d %s", method, path, res.StatusCode, data)
		}
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}

	text := "Article 1 Scope\n1. States Parties [shall/should] act.\n2. Each Party [may] report [annually/every two years].\n3. This paragraph is agreed.\n"
	var created json.RawMessage
	call("POST", "/api/docs", map[string]string{"id": "art-1", "title": "Article 1", "text": text}, &created)
	var listing struct {
		Rev    int `json:"rev"`
		Groups []struct {
			ID string `json:"id"`
		} `json:"groups"`
	}
	call("GET", "/api/docs/art-1/brackets", nil, &listing)
	if len(listing.Groups) != 3 {
		t.Fatalf("%d groups in the listing, want 3", len(listing.Groups))
	}
	var r json.RawMessage
	call("POST", "/api/docs/art-1/brackets/propose", map[string]any{"rev": listing.Rev, "group": listing.Groups[0].ID, "text": "must"}, &r)
	call("POST", fmt.Sprintf("/api/docs/art-1/brackets/%s/resolve", listing.Groups[1].ID), map[string]any{"rev": listing.Rev + 1, "choice": "choose", "index": 0}, &r)
	var provs struct {
		Rev        int `json:"rev"`
		Provisions []struct {
			ID  string `json:"id"`
			Num string `json:"num"`
		} `json:"provisions"`
	}
	call("GET", "/api/docs/art-1/provisions", nil, &provs)
	agreed := ""
	for _, p := range provs.Provisions {
		if p.Num == "3" {
			agreed = p.ID
		}
	}
	if agreed == "" {
		t.Fatalf("no paragraph 3 in the provisions listing: %+v", provs)
	}
	call("POST", "/api/docs/art-1/provisions/"+agreed+"/status", map[string]any{"status": "agreed", "rev": provs.Rev}, &r)
	var head struct {
		Rev  int    `json:"rev"`
		Text string `json:"text"`
	}
	call("GET", "/api/docs/art-1/text", nil, &head)
	call("PUT", "/api/docs/art-1/text", map[string]any{"text": "Article 1 Scope\n" + head.Text[len("Article 1 Scope\n"):] + "4. A new paragraph.\n", "rev": head.Rev}, &r)
	call("POST", "/api/docs/art-1/labels", map[string]any{"name": "Session 1"}, &r)
	call("GET", "/api/docs/art-1/text", nil, &head)

	// Every reply the panels read, by the reader that reads it (shapes.js).
	paths := map[string][]string{
		"readDraftList":        {"/api/docs"},
		"readBracketListing":   {"/api/docs/art-1/brackets", "/api/docs/art-1/brackets?rev=1"},
		"readBracketStats":     {"/api/docs/art-1/brackets/stats"},
		"readProposals":        {"/api/docs/art-1/proposals"},
		"readDecisions":        {"/api/docs/art-1/decisions"},
		"readProvisionListing": {"/api/docs/art-1/provisions"},
		"readProvisionStats":   {"/api/docs/art-1/provisions/stats"},
		"readTextAt":           {"/api/docs/art-1/text?rev=1", fmt.Sprintf("/api/docs/art-1/text?at=%d", 4102444800000)},
		"readDiff":             {fmt.Sprintf("/api/docs/art-1/diff?from=0&to=%d&by=1", head.Rev)},
		"readAuthors":          {fmt.Sprintf("/api/docs/art-1/authors?rev=%d", head.Rev)},
		"readTimeline":         {"/api/docs/art-1/history?limit=200"},
		"readLabels":           {"/api/docs/art-1/labels"},
		"readOps":              {fmt.Sprintf("/api/docs/art-1/ops?from=1&to=%d", head.Rev)},
	}
	type reply struct {
		Reader string          `json:"reader"`
		Path   string          `json:"path"`
		Body   json.RawMessage `json:"body"`
	}
	var replies []reply
	for reader, ps := range paths {
		for _, p := range ps {
			var body json.RawMessage
			call("GET", p, nil, &body)
			replies = append(replies, reply{reader, p, body})
		}
	}
	file := filepath.Join(t.TempDir(), "replies.json")
	b, _ := json.Marshal(replies)
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(node, "check-replies.mjs", file).CombinedOutput()
	if err != nil {
		t.Fatalf("node check-replies.mjs: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
