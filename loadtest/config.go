// Package loadtest is the engine of `draftroom load`: it drives simulated
// drafters (writers) and observers (readers) against one or more draftroom
// servers through the Go client, and measures what a delegate would feel:
// committed ops per second, the time from an edit to its ack, and the time
// from an op's send to its arrival at every other subscriber.
//
// Writers and readers run in one process, so fan-out latency is measured on
// one clock: each op is keyed by (writer, seq), the pair every subscriber
// sees in the committed op, with its send time taken at the writer and its
// arrival time at each reader. After the run the tool waits for quiet and
// checks that every client's text equals that of the server it is connected
// to (GET /api/docs/{id}), and that all servers agree.
//
// Loops are bounded by the run's deadline: Run stops by itself.
package loadtest

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Errors of the package.
var (
	// ErrConfig: the configuration cannot be run.
	ErrConfig = errors.New("loadtest: bad configuration")
	// ErrSetup: drafts could not be created or clients could not connect.
	ErrSetup = errors.New("loadtest: setup failed")
	// ErrDiverged: after the run, some client's text differs from its
	// server's, or the server URLs differ from each other (Run still
	// returns the whole report).
	ErrDiverged = errors.New("loadtest: did not converge")
	// ErrServerProc: the server's /proc entries could not be read.
	ErrServerProc = errors.New("loadtest: cannot read the server process")
)

// Modes of a run.
const (
	// ModeRate: each writer edits Rate times per second; edits made while
	// its op is in flight are composed behind it, as a real client does.
	ModeRate = "rate"
	// ModeSaturate: each writer makes its next edit as soon as the previous
	// one is acked.
	ModeSaturate = "saturate"
	// ModeIdle: readers connect, open their draft and hold; no writers.
	// For memory per connection.
	ModeIdle = "idle"
)

// Config describes a run. Zero fields take the defaults of Defaults.
type Config struct {
	// URLs are the servers' base URLs (http://127.0.0.1:8080); clients are
	// spread over them round-robin. ws:// URLs (with or without /ws) are
	// accepted too. Only loopback hosts: the tool floods its target.
	// Default http://127.0.0.1:8080.
	URLs []string
	// Token is the credential of every client and of draft creation (a
	// facilitator token). Empty: open mode (writers are drafters of
	// delegations D001…, readers are reviewers).
	Token string

	// Mode is ModeRate, ModeSaturate or ModeIdle. Default ModeRate.
	Mode string
	// Writers and Readers are totals, spread over the drafts round-robin
	// (writer i and reader i work on draft i mod Drafts).
	Writers, Readers int
	// Drafts is how many drafts, named Prefix0, Prefix1, ...; missing ones
	// are created with a text of TextLen code points. Default 1.
	Drafts int
	// Prefix of the draft ids. Default "load-".
	Prefix string
	// TextLen is the length of a created draft and the length writers keep
	// it near, in code points. Default 2000.
	TextLen int
	// Rate is edits per second per writer in ModeRate. Default 2.
	Rate float64

	// Warmup runs before measuring; Duration is measured. Defaults 2s, 10s.
	Warmup, Duration time.Duration
	// Quiesce bounds the wait, after the run, for acks and for every client
	// to reach the server's revision. Default 30s.
	Quiesce time.Duration
	// DialConcurrency is how many clients connect at once. Default 64.
	DialConcurrency int
	// Seed makes the edits reproducible. Default 1.
	Seed uint64

	// ServerPID, if set, is the server's process id: its CPU time over the
	// measured window and its memory are read from /proc.
	ServerPID int
	// Progress, if set, receives a line per phase (for people watching).
	Progress func(format string, args ...any)
}

// Defaults returns cfg with zero fields set to their defaults.
func (cfg Config) Defaults() Config {
	if len(cfg.URLs) == 0 {
		cfg.URLs = []string{"http://127.0.0.1:8080"}
	}
	if cfg.Mode == "" {
		cfg.Mode = ModeRate
	}
	if cfg.Drafts <= 0 {
		cfg.Drafts = 1
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "load-"
	}
	if cfg.TextLen <= 0 {
		cfg.TextLen = 2000
	}
	if cfg.Rate <= 0 {
		cfg.Rate = 2
	}
	if cfg.Warmup < 0 {
		cfg.Warmup = 0
	} else if cfg.Warmup == 0 {
		cfg.Warmup = 2 * time.Second
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 10 * time.Second
	}
	if cfg.Quiesce <= 0 {
		cfg.Quiesce = 30 * time.Second
	}
	if cfg.DialConcurrency <= 0 {
		cfg.DialConcurrency = 64
	}
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	if cfg.Progress == nil {
		cfg.Progress = func(string, ...any) {}
	}
	return cfg
}

// validate checks a configuration with defaults applied.
func (cfg Config) validate() error {
	switch cfg.Mode {
	case ModeRate, ModeSaturate:
		if cfg.Writers <= 0 {
			return fmt.Errorf("%w: mode %s needs writers", ErrConfig, cfg.Mode)
		}
	case ModeIdle:
		if cfg.Writers > 0 {
			return fmt.Errorf("%w: mode idle has no writers", ErrConfig)
		}
		if cfg.Readers <= 0 {
			return fmt.Errorf("%w: mode idle needs readers", ErrConfig)
		}
	default:
		return fmt.Errorf("%w: mode %q (want rate, saturate or idle)", ErrConfig, cfg.Mode)
	}
	if cfg.Readers < 0 {
		return fmt.Errorf("%w: negative readers", ErrConfig)
	}
	for _, u := range cfg.URLs {
		if _, _, err := endpoints(u); err != nil {
			return err
		}
	}
	return nil
}

// endpoints turns a server URL into its HTTP base and its WebSocket URL.
func endpoints(raw string) (httpBase, wsURL string, err error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", "", fmt.Errorf("%w: server URL %q (want http://host:port)", ErrConfig, raw)
	}
	if !loopback(u.Hostname()) {
		// A load test floods its target: never someone else's server.
		return "", "", fmt.Errorf("%w: server URL %q is not on a loopback address", ErrConfig, raw)
	}
	path := strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/ws")
	switch u.Scheme {
	case "http", "ws":
		return "http://" + u.Host + path, "ws://" + u.Host + path + "/ws", nil
	case "https", "wss":
		return "https://" + u.Host + path, "wss://" + u.Host + path + "/ws", nil
	}
	return "", "", fmt.Errorf("%w: server URL %q: scheme must be http, https, ws or wss", ErrConfig, raw)
}

// loopback reports whether host is localhost or a loopback IP address.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
