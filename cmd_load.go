package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/draftroom/draftroom/loadtest"
)

func init() { subcommands["load"] = loadCommand }

// loadCommand is `draftroom load`: it runs loadtest.Run with the flags and
// prints the report as one JSON line on stdout (progress goes to stderr
// with -v).
func loadCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseLoadConfig(args, stderr)
	if err != nil {
		return err
	}
	rep, err := loadtest.Run(ctx, cfg)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	_, err = fmt.Fprintf(stdout, "%s\n", b)
	return err
}

// parseLoadConfig turns the load flags into a loadtest.Config.
func parseLoadConfig(args []string, stderr io.Writer) (loadtest.Config, error) {
	fs := flag.NewFlagSet("draftroom load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg loadtest.Config
	urls := fs.String("url", "http://127.0.0.1:8080", "server base URLs, comma-separated; clients are spread over them round-robin")
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
	fs.DurationVar(&cfg.Quiesce, "quiesce", 30*time.Second, "longest wait, after the run, for every client to catch up")
	fs.IntVar(&cfg.DialConcurrency, "dial-concurrency", 64, "clients connecting at once")
	seed := fs.Uint64("seed", 1, "seed of the edits")
	fs.IntVar(&cfg.ServerPID, "server-pid", 0, "the server's process id, to report its CPU and memory from /proc")
	verbose := fs.Bool("v", false, "progress on stderr")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: draftroom load [flags]\n\nPrints one JSON line: ops/s, ack and fan-out latency, errors, CPU, convergence.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("load: unexpected argument %q (see -h)", fs.Arg(0))
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
	return cfg, nil
}
