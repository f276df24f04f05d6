package main

// `draftroom recover -data DIR`: make an embedded store whose write-ahead
// log is corrupt openable again (docs/RECOVERY.md).

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"time"

	"github.com/draftroom/draftroom/storage"
)

const recoverUsage = `usage: draftroom recover -data DIR

Makes the embedded store in DIR open again after the server refused to
start because its write-ahead log is corrupt. Stop the server first. The
original files are copied into DIR/recovered-<time>/ before anything is
changed; every intact commit that continues its draft's history is
replayed; the report says what was kept and what could not be.
See docs/RECOVERY.md.
`

func recoverCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("draftroom recover", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", defaultData, "data directory of the embedded store")
	fs.Usage = func() { fmt.Fprint(stderr, recoverUsage) }
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("recover: unexpected argument %q (see -h)", fs.Arg(0))
	}
	rec, err := storage.RecoverBolt(filepath.Join(*data, "draftroom.db"), time.Now())
	if rec != nil && len(rec.Kept) > 0 {
		fmt.Fprintf(stdout, "Kept the original files aside, unchanged, in %s:\n", rec.Aside)
		for _, f := range rec.Kept {
			fmt.Fprintf(stdout, "  %s\n", filepath.Base(f))
		}
	}
	if err != nil {
		return fmt.Errorf("recover: %w", err)
	}
	fmt.Fprintln(stdout, "Replayed from the write-ahead log into the store:")
	printRanges(stdout, rec.Replayed)
	fmt.Fprintln(stdout, "Already in the store (nothing to do):")
	printRanges(stdout, rec.Present)
	if len(rec.Lost) == 0 {
		fmt.Fprintln(stdout, "Could not keep: nothing; every commit in the log is in the store.")
	} else {
		fmt.Fprintln(stdout, "COULD NOT KEEP (the bytes are in the files kept aside):")
		for _, l := range rec.Lost {
			fmt.Fprintf(stdout, "  %s\n", l)
		}
		fmt.Fprintln(stdout, "Clients that were acknowledged revisions past a draft's head below must reload it.")
	}
	fmt.Fprintln(stdout, "Drafts now:")
	ids := make([]string, 0, len(rec.Heads))
	for id := range rec.Heads {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		fmt.Fprintf(stdout, "  %s at revision %d\n", id, rec.Heads[id])
	}
	fmt.Fprintln(stdout, "The store opens again: start the server.")
	return nil
}

func printRanges(w io.Writer, rs []storage.RevRange) {
	if len(rs) == 0 {
		fmt.Fprintln(w, "  none")
	}
	for _, r := range rs {
		fmt.Fprintf(w, "  %s\n", r)
	}
}
