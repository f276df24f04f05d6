package main

// `draftroom check -data DIR`: verify a data directory of the embedded
// store (storage.VerifyBolt) and say exactly what is wrong; exit 1 if
// anything is.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/draftroom/draftroom/storage"
)

func init() { subcommands["check"] = checkCmd }

func checkCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", envOr("DRAFTROOM_DATA", defaultData), "data directory to check (env DRAFTROOM_DATA); the server must not be running on it")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: draftroom check -data DIR\n\nChecks every draft: its ops replay from its first text to its stored head and\nmatch every snapshot, and its records point at existing revisions.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("check: unexpected argument %q", fs.Arg(0))
	}
	path := filepath.Join(*data, "draftroom.db")
	rep, err := storage.VerifyBolt(path)
	for _, p := range rep.Problems {
		fmt.Fprintln(stdout, "PROBLEM:", p)
	}
	if err != nil && !errors.Is(err, storage.ErrDamaged) {
		if errors.Is(err, storage.ErrInUse) {
			return fmt.Errorf("check: %s is in use (a server is running on it); check a backup instead (draftroom backup)", path)
		}
		return fmt.Errorf("check: %w", err)
	}
	fmt.Fprintf(stdout, "%s: %d drafts, %d ops", path, rep.Drafts, rep.Ops)
	if rep.LogCommits > 0 {
		fmt.Fprintf(stdout, ", %d commits in the write-ahead log (applied at the next start)", rep.LogCommits)
	}
	fmt.Fprintln(stdout)
	if err != nil {
		return fmt.Errorf("check: %d problems found", len(rep.Problems))
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}
