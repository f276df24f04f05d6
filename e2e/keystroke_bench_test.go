package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// bracketedDraft is about size bytes of treaty text with one bracket group
// every size/groups bytes, in the forms of docs/BRACKETS.md (alternatives,
// optional text, "or" chains, nesting).
func bracketedDraft(size, groups int) string {
	forms := []string{
		"[shall/should]",
		"[, in accordance with their national circumstances,]",
		"[new and additional] or [adequate]",
		"[take [all appropriate/effective] measures]",
	}
	var b strings.Builder
	per := size / groups
	for i := 0; b.Len() < size; i++ {
		start := b.Len()
		fmt.Fprintf(&b, "%d. States Parties %s provide resources to developing country Parties ", i+1, forms[i%len(forms)])
		for b.Len()-start < per-2 {
			b.WriteString("and cooperate ")
		}
		b.WriteString(".\n")
	}
	return b.String()
}

// BenchmarkKeystrokeToScreen types into a 500 KB draft with 2,000 bracket
// groups in Chromium and reports the p50 and p95 of the main thread's work
// for one keystroke until it is on screen: the editor transaction (OT
// client, bracket reading, decorations, DOM update, layout), plus
// CodeMirror's measure pass in the next animation frame. The wait for the
// frame itself (vsync) is not counted. Run with
//
//	go test ./e2e/ -run '^$' -bench KeystrokeToScreen -benchtime 300x
func BenchmarkKeystrokeToScreen(b *testing.B) {
	e := newEnv(b)
	text := bracketedDraft(500_000, 2000)
	e.createDraft("bench", "Bench", text)
	p := e.newPage("CAN", "Ana", "drafter")
	p.open("bench")
	// Type inside an alternative in the middle of the draft.
	at := strings.Index(text[len(text)/2:], "[shall/") + len(text)/2 + len("[sha")
	p.eval(fmt.Sprintf(`(() => { const v = window.__draftroom.view.view; v.dispatch({ selection: { anchor: %d }, scrollIntoView: true }); v.focus(); return true; })()`, at), nil)
	// Animation frames run only in the visible tab: bring this one to the
	// front (tabs of earlier runs are still open).
	if _, err := chromedp.Call(p.ctx, cdppage.BringToFront, cdp.Empty{}); err != nil {
		b.Fatal(err)
	}
	// Let the first render settle.
	p.eval(`new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`, nil)
	const keystroke = `new Promise((resolve) => {
		const v = window.__draftroom.view.view;
		let ta = 0;
		requestAnimationFrame(() => { ta = performance.now(); });
		const t0 = performance.now();
		const pos = v.state.selection.main.head;
		v.dispatch({ changes: { from: pos, insert: 'a' }, selection: { anchor: pos + 1 }, userEvent: 'input.type', scrollIntoView: true });
		v.contentDOM.getBoundingClientRect();
		void document.body.offsetHeight;
		const t1 = performance.now();
		requestAnimationFrame(() => { const f = performance.now() - ta; (window.__kb = window.__kb || []).push([t1 - t0, f]); resolve((t1 - t0) + f); });
	})`
	var ms []float64
	ctx := p.ctx
	for b.Loop() {
		c, cancel := context.WithTimeout(ctx, 30*time.Second)
		v, err := chromedp.Run(c, chromedp.Evaluate[float64](keystroke, chromedp.EvalAwaitPromise))
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		ms = append(ms, v)
	}
	var parts [][2]float64
	p.eval(`window.__kb`, &parts)
	var sync, frame []float64
	for _, x := range parts {
		sync, frame = append(sync, x[0]), append(frame, x[1])
	}
	slices.Sort(sync)
	slices.Sort(frame)
	b.Logf("transaction p50 %.1f p95 %.1f; measure frame p50 %.1f p95 %.1f", sync[len(sync)/2], sync[len(sync)*95/100], frame[len(frame)/2], frame[len(frame)*95/100])
	slices.Sort(ms)
	q := func(f float64) float64 { return ms[min(len(ms)-1, int(f*float64(len(ms))))] }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.95), "p95-ms")
	b.ReportMetric(ms[len(ms)-1], "max-ms")
}
