package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/draftroom/draftroom/loadtest"
)

// loadCommand is `draftroom load`: it runs loadtest.Run with the flags and
// prints the report as one JSON line on stdout (progress goes to stderr
// with -v). When the clients or the server URLs did not converge it prints
// the report and returns loadtest.ErrDiverged (draftroom exits 1).
func loadCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, profile, err := parseLoadConfig(args, stderr)
	if err != nil {
		return err
	}
	if profile != "" {
		// The tool shares the machine with the server: its own profile
		// tells how much of the box the measurement itself takes.
		f, err := os.Create(profile)
		if err != nil {
			return fmt.Errorf("load: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("load: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	rep, runErr := loadtest.Run(ctx, cfg)
	if runErr != nil && !errors.Is(runErr, loadtest.ErrDiverged) {
		return fmt.Errorf("load: %w", runErr)
	}
	// A run that did not converge still prints its report (which says
	// where), then fails: a benchmark of a server that loses edits must
	// not pass for a result.
	b, err := json.Marshal(rep)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	if _, err := fmt.Fprintf(stdout, "%s\n", b); err != nil {
		return err
	}
	if runErr != nil {
		return fmt.Errorf("load: %w", runErr)
	}
	return nil
}

// parseLoadConfig turns the load flags into a loadtest.Config, and the
// file for the tool's own CPU profile ("" for none).
func parseLoadConfig(args []string, stderr io.Writer) (cfg loadtest.Config, cpuProfile string, err error) {
	fs := flag.NewFlagSet("draftroom load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	urls := fs.String("url", "http://127.0.0.1:8080", "server base URLs on loopback, comma-separated; clients are spread over them round-robin")
	fs.StringVar(&cfg.Token, "token", "", "credential for every client and for creating drafts (a facilitator token); empty: open mode")
	fs.StringVar(&cfg.Mode, "mode", loadtest.ModeRate, "rate (edits/s per writer), saturate (next edit on ack) or idle (readers connect and hold)")
	fs.IntVar(&cfg.Writers, "writers", 0, "writers in all, spread over the drafts")
	fs.IntVar(&cfg.Readers, "readers", 0, "readers in all, spread over the drafts")
	fs.IntVar(&cfg.Drafts, "drafts", 1, "drafts, named PREFIX0, PREFIX1, ... (created if missing)")
	fs.StringVar(&cfg.Prefix, "prefix", "load-", "prefix of the draft ids")
	fs.IntVar(&cfg.TextLen, "text-len", 2000, "length of a created draft, and the length writers keep near, in code points")
	fs.Float64Var(&cfg.Rate, "rate", 2, "edits per second per writer (rate mode)")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "measured time")
	warmup := fs.Duration("warmup", 2*time.Second, "time before measuring")
	fs.DurationVar(&cfg.Quiesce, "quiesce", 30*time.Second, "longest wait, after the run, for every client to catch up and every -url to agree on each draft")
	fs.IntVar(&cfg.DialConcurrency, "dial-concurrency", 64, "clients connecting at once")
	seed := fs.Uint64("seed", 1, "seed of the edits")
	fs.IntVar(&cfg.ServerPID, "server-pid", 0, "the server's process id, to report its CPU and memory from /proc")
	verbose := fs.Bool("v", false, "progress on stderr")
	fs.StringVar(&cpuProfile, "cpuprofile", "", "write the load tool's own CPU profile to this file")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: draftroom load [flags]\n\nPrints one JSON line: ops/s, ack and fan-out latency, errors, CPU, convergence.\nExits 1 (after printing it) when a client's text differs from its server's\nor the -url servers differ from each other.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, "", err
	}
	if fs.NArg() > 0 {
		return cfg, "", fmt.Errorf("load: unexpected argument %q (see -h)", fs.Arg(0))
	}
	for u := range strings.SplitSeq(*urls, ",") {
		if u = strings.TrimSpace(u); u != "" {
			cfg.URLs = append(cfg.URLs, u)
		}
	}
	cfg.Warmup = *warmup
	if cfg.Warmup == 0 {
		cfg.Warmup = -1 // loadtest: zero means its default, negative none
	}
	cfg.Seed = *seed
	if *verbose {
		cfg.Progress = func(format string, args ...any) {
			fmt.Fprintf(stderr, "load: "+format+"\n", args...)
		}
	}
	return cfg, cpuProfile, nil
}
