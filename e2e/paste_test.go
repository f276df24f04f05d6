package e2e

import (
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/draftroom/draftroom/server"
)

// paste pastes the text a JS expression evaluates to at the editor's
// cursor, through CodeMirror's paste handler (a ClipboardEvent with its
// clipboard data, as a real paste delivers it).
func (p *page) paste(jsText string) {
	p.e.t.Helper()
	p.eval(fmt.Sprintf(`(() => {
		const v = window.__draftroom.view.view;
		const dt = new DataTransfer();
		dt.setData('text/plain', %s);
		v.contentDOM.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
		return true;
	})()`, jsText), nil)
}

// TestLargePasteReachesServer: a 1 MB paste, over the server's 1 MiB frame
// limit once encoded, reaches the server, and typing afterwards reaches it
// too. (Before: the page sent one frame, the server refused it with
// too_large and no seq, and the page waited for an ack forever.)
func TestLargePasteReachesServer(t *testing.T) {
	e := newEnv(t)
	e.createDraft("big", "Big", "Start.")
	can := e.newPage("CAN", "Ana", "drafter")
	can.open("big")
	can.cursorAt(-1)
	unit := ` The Parties shall "cooperate" <fully>.`
	can.paste(fmt.Sprintf("%q.repeat(27000)", unit))
	if err := typeText(can.ctx, " Typed after."); err != nil {
		t.Fatal(err)
	}
	want := "Start." + strings.Repeat(unit, 27000) + " Typed after."
	d := e.settleWhen("big", "the paste and the typing", func(d draftJSON) bool { return d.Text == want }, can)
	if d.Rev < 4 {
		t.Errorf("the paste arrived in %d revisions; a frame of 1 MB cannot have been split", d.Rev)
	}
	var state string
	can.eval(`document.querySelector('.conn').dataset.state`, &state)
	if state != "online" {
		t.Errorf("status %q after everything was acknowledged, want online", state)
	}
}

// TestRefusedEditShowsNotice: an edit that would take the draft past its
// maximum length shows a notice with the refused text and a copy button
// until dismissed, and later edits reach the server. Refused by the page
// (which knows the limit from the welcome, so no part of the paste is
// committed) and, with the page's knowledge of the limit removed, by the
// server (too_large for the op's seq: the page drops it and reloads).
func TestRefusedEditShowsNotice(t *testing.T) {
	for _, by := range []string{"page", "server"} {
		t.Run(by, func(t *testing.T) {
			e := newEnvWith(t, server.Config{Open: true, MaxDraftLen: 200}, nil)
			e.createDraft("small", "Small", "Agreed start.")
			can := e.newPage("CAN", "Ana", "drafter")
			can.open("small")
			if by == "server" {
				can.eval(`(() => { window.__draftroom.conn.identity.max_draft_len = 0; return true; })()`, nil)
			}
			can.cursorAt(-1)
			refusedText := strings.Repeat("too long ", 40)
			can.paste(fmt.Sprintf("%q", refusedText))
			can.waitJS("the refusal notice", `!!document.querySelector('.refused[data-code=too_large] pre.refused-text')`, 10*time.Second)
			var shown string
			can.eval(`document.querySelector('.refused pre.refused-text').textContent`, &shown)
			if shown != refusedText {
				t.Fatalf("notice keeps %q, want the pasted text", shown)
			}
			var hasCopy bool
			can.eval(`[...document.querySelectorAll('.refused button')].some(b => b.textContent.includes('Copy'))`, &hasCopy)
			if !hasCopy {
				t.Error("no copy button in the notice")
			}
			// The page goes on: typing reaches the server.
			can.waitJS("draft back", `(() => { const v = window.__draftroom.view; return !!(v.client && v.client.online && !v.client.pending) && v.view.state.doc.toString() === 'Agreed start.'; })()`, 10*time.Second)
			can.cursorAt(-1)
			if err := typeText(can.ctx, " ok"); err != nil {
				t.Fatal(err)
			}
			e.settleWhen("small", "typing after the refusal", func(d draftJSON) bool { return d.Text == "Agreed start. ok" }, can)
			// The notice persists until dismissed.
			var still bool
			can.eval(`!!document.querySelector('.refused')`, &still)
			if !still {
				t.Fatal("the notice went away by itself")
			}
			can.eval(`(() => { [...document.querySelectorAll('.refused button')].find(b => b.textContent === 'Dismiss').click(); return true; })()`, nil)
			can.waitJS("notice dismissed", `!document.querySelector('.refused')`, 5*time.Second)
		})
	}
}

// TestDeepBracketsLateJoiner: pasting 3,000 nested brackets neither crashes
// the page nor blanks the draft for someone who opens it afterwards.
// (Before: the highlighter nested a DOM element per bracket, "Maximum call
// stack size exceeded", and a late joiner saw "The draft is empty".)
func TestDeepBracketsLateJoiner(t *testing.T) {
	e := newEnv(t)
	e.createDraft("deep", "Deep", "Preamble. ")
	can := e.newPage("CAN", "Ana", "drafter")
	can.open("deep")
	can.cursorAt(-1)
	can.paste(`'['.repeat(3000) + 'x' + ']'.repeat(3000)`)
	if err := typeText(can.ctx, " after"); err != nil {
		t.Fatal(err)
	}
	want := "Preamble. " + strings.Repeat("[", 3000) + "x" + strings.Repeat("]", 3000) + " after"
	e.settleWhen("deep", "the deep paste", func(d draftJSON) bool { return d.Text == want }, can)

	egy := e.newPage("EGY", "Omar", "drafter")
	egy.open("deep")
	e.settle("deep", egy)
	var r struct {
		Placeholder bool `json:"placeholder"`
		Punct       int  `json:"punct"`
		Lines       int  `json:"lines"`
	}
	egy.eval(`(() => ({ placeholder: !!document.querySelector('.cm-placeholder'), punct: document.querySelectorAll('.cm-br-punct').length, lines: document.querySelectorAll('.cm-line').length }))()`, &r)
	if r.Placeholder {
		t.Error("the late joiner sees the empty-draft placeholder")
	}
	if r.Punct == 0 {
		t.Error("the late joiner's editor highlights no bracket")
	}
	// And the late joiner can type.
	egy.cursorAt(0)
	if err := typeText(egy.ctx, "EGY: "); err != nil {
		t.Fatal(err)
	}
	e.settleWhen("deep", "the late joiner's typing", func(d draftJSON) bool { return d.Text == "EGY: "+want }, can, egy)
}

// gateProxy forwards TCP connections to target and can hold every byte in
// both directions, as a network that stops delivering without closing
// anything would.
type gateProxy struct {
	ln      net.Listener
	target  string
	mu      sync.Mutex
	cond    *sync.Cond
	blocked bool
}

func newGateProxy(t *testing.T, target string) *gateProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &gateProxy{ln: ln, target: target}
	g.cond = sync.NewCond(&g.mu)
	t.Cleanup(func() { g.set(false); ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			go g.pipe(u, c)
			go g.pipe(c, u)
		}
	}()
	return g
}

func (g *gateProxy) set(blocked bool) {
	g.mu.Lock()
	g.blocked = blocked
	g.cond.Broadcast()
	g.mu.Unlock()
}

func (g *gateProxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			g.mu.Lock()
			for g.blocked {
				g.cond.Wait()
			}
			g.mu.Unlock()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				src.Close()
			}
			return
		}
	}
}

// TestBlockedSocketShowsWaiting: when the network stops delivering (the
// socket stays open, nothing gets through), the status stops saying "Live"
// within 2 s and says, in words, that edits are waiting, since when, and
// that they are kept on this device; once the network is back they arrive.
func TestBlockedSocketShowsWaiting(t *testing.T) {
	e := newEnv(t)
	e.createDraft("net", "Net", "Text.")
	g := newGateProxy(t, strings.TrimPrefix(e.url, "http://"))
	via := &env{t: t, url: "http://" + g.ln.Addr().String()}
	can := via.newPage("CAN", "Ana", "drafter")
	can.open("net")
	can.cursorAt(-1)
	if err := typeText(can.ctx, " a"); err != nil {
		t.Fatal(err)
	}
	e.settleWhen("net", "the first edit", func(d draftJSON) bool { return d.Text == "Text. a" }, can)
	var label string
	can.eval(`document.querySelector('.conn').textContent`, &label)
	if label != "Live" {
		t.Fatalf("status %q before the block, want Live", label)
	}

	g.set(true)
	start := time.Now()
	if err := typeText(can.ctx, "b"); err != nil {
		t.Fatal(err)
	}
	can.waitJS("the waiting state", `document.querySelector('.conn').dataset.state === 'waiting'`, 5*time.Second)
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the waiting state showed %v after the edit, want at most 2s", took)
	}
	can.eval(`document.querySelector('.conn').textContent`, &label)
	if !strings.Contains(label, "waiting since") || !strings.Contains(label, "kept on this device") || strings.Contains(label, "Live") {
		t.Errorf("status %q while blocked", label)
	}

	g.set(false)
	e.settleWhen("net", "the edit made while blocked", func(d draftJSON) bool { return d.Text == "Text. ab" }, can)
	can.waitJS("Live again", `document.querySelector('.conn').textContent === 'Live'`, 5*time.Second)
}
