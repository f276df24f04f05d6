package e2e

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/draftroom/draftroom/server"
)

// TestTokenScreenInOpenMode: in open mode the server refuses to manage
// tokens, so the tokens page says so in words and hides its issue form
// instead of offering one that every submit would fail.
//
// An earlier version of this page asked /api/me and /api/tokens at once and
// let whichever answered last write the page's note: when /api/me came
// second (a busy machine), "No tokens yet." replaced the sentence. This
// test forces that order: it holds /api/me until the page has shown what it
// shows without it, then lets it through, and waits for the state the page
// sets (main[data-tokens]) rather than for text that may come and go.
func TestTokenScreenInOpenMode(t *testing.T) {
	var (
		once      sync.Once
		meAsked   = make(chan struct{}) // closed when the page asks /api/me
		releaseMe = make(chan struct{}) // closed by the test to answer it
	)
	e := newEnvWith(t, server.Config{Open: true}, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/api/me" {
				once.Do(func() { close(meAsked) })
				select {
				case <-releaseMe:
				case <-r.Context().Done():
					return
				}
			}
			h.ServeHTTP(w, r)
		})
	})
	t.Cleanup(func() {
		select {
		case <-releaseMe:
		default:
			close(releaseMe)
		}
	})
	chair := e.newPage("CHAIR", "Maria Lopes", "facilitator")
	chair.eval(`(() => { location.hash = '#/tokens'; return true; })()`, nil)
	select {
	case <-meAsked:
	case <-time.After(patience * 10 * time.Second):
		t.Fatal("the tokens page never asked /api/me")
	}
	// Whatever the page does without /api/me: it is either still loading
	// (it waits for /api/me) or it has shown its refusal already (it did not).
	chair.waitJS("the page waiting for /api/me, or showing the refusal without it",
		`(() => { const m = document.querySelector('main.list-page'); return !!m && (m.dataset.tokens === 'loading' || document.body.textContent.includes('Managing tokens needs a facilitator signed in with a token')); })()`,
		10*time.Second)
	close(releaseMe)
	chair.waitJS("the page to settle", `(() => { const m = document.querySelector('main.list-page'); return !!m && !!m.dataset.tokens && m.dataset.tokens !== 'loading'; })()`, 10*time.Second)
	var got struct {
		State    string
		Sentence bool
		Form     bool
	}
	chair.eval(`(() => {
		const m = document.querySelector('main.list-page');
		const f = [...document.querySelectorAll('form')].find((f) => f.textContent.includes('Issue a token'));
		const s = [...document.querySelectorAll('main.list-page p')].find((p) => !p.closest('[hidden]') && !p.hidden && p.textContent.includes('Managing tokens needs a facilitator signed in with a token'));
		return { State: m.dataset.tokens, Sentence: !!s, Form: !!f && !f.hidden };
	})()`, &got)
	if got.State != "open-mode" {
		t.Errorf("page state %q, want open-mode", got.State)
	}
	if !got.Sentence {
		t.Error("the sentence saying why tokens cannot be managed in open mode is not shown")
	}
	if got.Form {
		t.Error("the issue form is shown in open mode, where the server refuses every token issued")
	}
	shotIf(t, chair, "tokens-open-mode")
}
