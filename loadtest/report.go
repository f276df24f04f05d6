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

	// Converged: every client's text equals the server's at the server's
	// revision after quiescing.
	Converged bool     `json:"converged"`
	Checked   int      `json:"clients_checked"`
	Diverged  []string `json:"diverged,omitempty"` // the first few problems
}

// ServerText is a draft as the server has it (GET /api/docs/{id}).
type ServerText struct {
	Rev  int
	Text string
}

// ClientText is one client's view of one draft after quiescing.
type ClientText struct {
	Client  string
	Doc     string
	Rev     int
	Text    string
	Pending bool   // local edits not yet acked
	Err     string // why the draft stopped, if it did
}

// maxDiverged caps the problems listed in a report.
const maxDiverged = 10

// Converge compares every client's text with the server's text of its
// draft and returns whether all match, and the first few mismatches. A
// client still behind or ahead of the server's revision, with unacked
// edits, with a stopped draft, or on a draft the server did not return,
// has not converged.
func Converge(server map[string]ServerText, clients []ClientText) (bool, []string) {
	var problems []string
	bad := 0
	note := func(format string, args ...any) {
		bad++
		if len(problems) < maxDiverged {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	for _, c := range clients {
		s, ok := server[c.Doc]
		switch {
		case !ok:
			note("%s on %s: the server's text is unknown", c.Client, c.Doc)
		case c.Err != "":
			note("%s on %s: draft stopped: %s", c.Client, c.Doc, c.Err)
		case c.Pending:
			note("%s on %s: edits still unacked", c.Client, c.Doc)
		case c.Rev != s.Rev:
			note("%s on %s: at rev %d, server at %d", c.Client, c.Doc, c.Rev, s.Rev)
		case c.Text != s.Text:
			note("%s on %s: text differs from the server's at rev %d (%s)", c.Client, c.Doc, s.Rev, firstDifference(c.Text, s.Text))
		}
	}
	if bad > len(problems) {
		problems = append(problems, fmt.Sprintf("... %d more", bad-len(problems)))
	}
	sort.Strings(problems[:min(len(problems), maxDiverged)])
	return bad == 0, problems
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
