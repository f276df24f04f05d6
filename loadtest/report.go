package loadtest

import (
	"fmt"
	"sort"
)

// Report is the result of a run, printed as one JSON line. Latencies are
// in milliseconds. Ops, latencies and deliveries are those of the ops sent
// within the measured window (after the warm-up), followed to their ack
// and to every subscriber even after the window ends.
type Report struct {
	Mode     string  `json:"mode"`
	Drafts   int     `json:"drafts"`
	Writers  int     `json:"writers"`
	Readers  int     `json:"readers"`
	Rate     float64 `json:"rate,omitempty"` // edits/s per writer (rate mode)
	Servers  int     `json:"servers"`
	Seconds  float64 `json:"seconds"`  // measured window
	LoadAvg  float64 `json:"load_avg"` // 1-minute load average at the start
	Connect  float64 `json:"connect_s"`
	Ops      int64   `json:"ops"`       // committed (acked) ops sent in the window
	OpsPerS  float64 `json:"ops_per_s"` // Ops / Seconds
	Edits    int64   `json:"edits"`     // local edits those ops carry
	EditsPer float64 `json:"edits_per_op,omitempty"`

	// Ack is edit → ack: from the earliest local edit an op carries to
	// its ack (includes waiting behind the op in flight). AckWire is
	// send → ack: the server's round trip alone.
	Ack     Summary `json:"ack_ms"`
	AckWire Summary `json:"ack_wire_ms"`
	// Fanout is send → arrival at each other subscriber of the draft;
	// FanoutLast is send → arrival at the last of them, per op.
	Fanout     Summary `json:"fanout_ms"`
	FanoutLast Summary `json:"fanout_last_ms"`
	// Commit is send → the commit time the server stamps on the op ("ts",
	// Unix ms, read from the same machine's clock): the server's share of
	// the latency, at millisecond resolution, before delivery.
	Commit           Summary `json:"commit_ms"`
	Deliveries       int64   `json:"deliveries"`        // op arrivals measured
	FanoutIncomplete int     `json:"fanout_incomplete"` // measured ops some subscriber never got

	Errors      map[string]int64 `json:"errors"` // server error messages by code
	Disconnects int64            `json:"disconnects"`
	Resyncs     int64            `json:"resyncs"`

	ToolCPU    float64 `json:"tool_cpu_s"`
	ToolCPUPct float64 `json:"tool_cpu_pct"` // of one core, over the window

	ServerPID       int     `json:"server_pid,omitempty"`
	ServerCPU       float64 `json:"server_cpu_s,omitempty"`
	ServerCPUPct    float64 `json:"server_cpu_pct,omitempty"`
	ServerRSSMB     float64 `json:"server_rss_mb,omitempty"`
	ServerPeakMB    float64 `json:"server_rss_peak_mb,omitempty"`
	ServerKBPerConn float64 `json:"server_kb_per_conn,omitempty"` // RSS / connections (idle mode)
	ServerDiskMB    float64 `json:"server_disk_mb,omitempty"`     // written to storage over the window
	// ServerUSPerDelivery is server CPU microseconds per op delivered to
	// one subscriber (server CPU over the window / Deliveries): the fan-out
	// cost per op per subscriber, commit cost included.
	ServerUSPerDelivery float64 `json:"server_us_per_delivery,omitempty"`
	ServerErr           string  `json:"server_err,omitempty"`

	// Converged: every client's text equals, at its revision, the text
	// that the server URL it is connected to returns (GET /api/docs/{id})
	// after quiescing, and every URL returns the same revision and text
	// for every draft (NodesAgree). Run fails with ErrDiverged otherwise.
	Converged bool     `json:"converged"`
	Checked   int      `json:"clients_checked"`
	Diverged  []string `json:"diverged,omitempty"` // the first few problems
	// NodesAgree: every server URL answered GET /api/docs/{id} with the
	// same revision and text for every draft (with one URL: it answered).
	// Nodes on a shared store learn of each other's commits by pub/sub a
	// moment after the writer's ack, so the tool asks again until they
	// agree, at most until the quiesce time is up; NodesAgreeMS is how
	// long that took.
	NodesAgree   bool        `json:"nodes_agree"`
	NodesAgreeMS float64     `json:"nodes_agree_ms"`
	Nodes        []NodeCheck `json:"nodes,omitempty"` // per server URL, in -url order
}

// NodeCheck is the convergence check of one server URL.
type NodeCheck struct {
	URL string `json:"url"`
	// Agree: this URL answered every draft with the revision and text of
	// the first URL (the first URL itself: it answered every draft).
	Agree bool `json:"agree"`
	// Clients connected through this URL, each compared with this URL's
	// answer; Diverged of them did not converge.
	Clients  int `json:"clients"`
	Diverged int `json:"clients_diverged"`
}

// DraftAt names a draft as one server URL serves it.
type DraftAt struct {
	URL string // HTTP base URL
	Doc string
}

// ServerText is a draft as the server has it (GET /api/docs/{id}).
type ServerText struct {
	Rev  int
	Text string
}

// ClientText is one client's view of one draft after quiescing.
type ClientText struct {
	Client  string
	URL     string // the HTTP base URL of the server it is connected to
	Doc     string
	Rev     int
	Text    string
	Pending bool   // local edits not yet acked
	Err     string // why the draft stopped, if it did
}

// maxDiverged caps the problems listed in a report.
const maxDiverged = 10

// problems collects the first maxDiverged problems and counts the rest.
type problems struct {
	list []string
	n    int
}

func (p *problems) add(format string, args ...any) {
	p.n++
	if len(p.list) < maxDiverged {
		p.list = append(p.list, fmt.Sprintf(format, args...))
	}
}

// sorted returns the problems listed, sorted, with "... N more" after them
// when some were left out.
func (p *problems) sorted() []string {
	out := append([]string(nil), p.list...)
	sort.Strings(out)
	if p.n > len(out) {
		out = append(out, fmt.Sprintf("... %d more", p.n-len(out)))
	}
	return out
}

// Converge compares every client's text with the text of its draft that
// the server URL it is connected to returned, and returns whether all
// match and the first few mismatches. A client still behind or ahead of
// that revision, with unacked edits, with a stopped draft, or on a draft
// its URL did not return, has not converged.
func Converge(server map[DraftAt]ServerText, clients []ClientText) (bool, []string) {
	var p problems
	for _, c := range clients {
		if why := mismatch(server, c); why != "" {
			p.add("%s", why)
		}
	}
	return p.n == 0, p.sorted()
}

// mismatch says how client c differs from its server's text, or "" when
// it does not.
func mismatch(server map[DraftAt]ServerText, c ClientText) string {
	s, ok := server[DraftAt{URL: c.URL, Doc: c.Doc}]
	switch {
	case !ok:
		return fmt.Sprintf("%s on %s via %s: the server's text is unknown", c.Client, c.Doc, c.URL)
	case c.Err != "":
		return fmt.Sprintf("%s on %s via %s: draft stopped: %s", c.Client, c.Doc, c.URL, c.Err)
	case c.Pending:
		return fmt.Sprintf("%s on %s via %s: edits still unacked", c.Client, c.Doc, c.URL)
	case c.Rev != s.Rev:
		return fmt.Sprintf("%s on %s via %s: at rev %d, server at %d", c.Client, c.Doc, c.URL, c.Rev, s.Rev)
	case c.Text != s.Text:
		return fmt.Sprintf("%s on %s via %s: text differs from the server's at rev %d (%s)", c.Client, c.Doc, c.URL, s.Rev, firstDifference(c.Text, s.Text))
	}
	return ""
}

// Agree compares, draft by draft, what every server URL returned with
// what the first URL returned. It returns the URLs that differ from the
// first on some draft or did not return it (the first URL itself when it
// did not return a draft), and the first few differences. With no
// disagreement, disagree is empty.
func Agree(urls, drafts []string, server map[DraftAt]ServerText) (disagree map[string]bool, list []string) {
	disagree = map[string]bool{}
	var p problems
	for _, doc := range drafts {
		first, ok := server[DraftAt{URL: urls[0], Doc: doc}]
		if !ok {
			disagree[urls[0]] = true
			p.add("%s: %s did not return it", doc, urls[0])
			continue
		}
		for _, u := range urls[1:] {
			s, ok := server[DraftAt{URL: u, Doc: doc}]
			switch {
			case !ok:
				p.add("%s: %s did not return it", doc, u)
			case s.Rev != first.Rev:
				p.add("%s: %s at rev %d, %s at rev %d", doc, u, s.Rev, urls[0], first.Rev)
			case s.Text != first.Text:
				p.add("%s: %s and %s differ at rev %d (%s)", doc, u, urls[0], s.Rev, firstDifference(s.Text, first.Text))
			default:
				continue
			}
			disagree[u] = true
		}
	}
	return disagree, p.sorted()
}

// firstDifference describes where two texts first differ, in code points.
func firstDifference(a, b string) string {
	ra, rb := []rune(a), []rune(b)
	i := 0
	for i < len(ra) && i < len(rb) && ra[i] == rb[i] {
		i++
	}
	return fmt.Sprintf("first difference at code point %d; lengths %d and %d", i, len(ra), len(rb))
}
