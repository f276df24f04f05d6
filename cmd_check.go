package main

// `draftroom check -data DIR`: verify a data directory of the embedded
// store (storage.VerifyBolt) and say exactly what is wrong; exit 1 if
// anything is.
//
// The check runs in a child process (this binary again): bbolt trusts its
// pages, and a file damaged badly enough makes it panic in a goroutine of
// its own while opening the file, which no recover can catch. The parent
// turns such a crash into a problem it reports.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/draftroom/draftroom/storage"
)

// checkChildEnv marks the child process that does the checking.
const checkChildEnv = "DRAFTROOM_CHECK_CHILD"

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
	switch os.Getenv(checkChildEnv) {
	case "":
		if err := checkInChild(ctx, path, stdout); !errors.Is(err, errNoChild) {
			return err
		}
	case "child":
		limitCheckMemory(path)
	}
	return verify(path, stdout)
}

// errNoChild: the check could not start a child process; it runs here.
var errNoChild = errors.New("no child process")

// checkInChild runs `draftroom check` on path in a child process and
// copies its report; a child that crashed is reported as a damaged file.
func checkInChild(ctx context.Context, path string, stdout io.Writer) error {
	exe, err := os.Executable()
	if err != nil {
		return errNoChild
	}
	cmd := exec.CommandContext(ctx, exe, "check", "-data", filepath.Dir(path))
	cmd.Env = append(os.Environ(), checkChildEnv+"=child")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		return errNoChild
	}
	err = cmd.Wait()
	stdout.Write(out.Bytes())
	var exit *exec.ExitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &exit) && exit.ExitCode() == 1:
		// Problems found (printed), or an error draftroom reported.
		msg := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(errOut.String()), "draftroom: "))
		return errors.New(msg)
	default:
		first := "no output"
		if sc := bufio.NewScanner(&errOut); sc.Scan() {
			first = sc.Text()
		}
		fmt.Fprintf(stdout, "PROBLEM: %s is damaged beyond reading its pages: bbolt crashed reading it (%s); restore a backup\n", path, first)
		return fmt.Errorf("check: %s is damaged beyond reading", path)
	}
}

// verify checks path here and prints the report.
func verify(path string, stdout io.Writer) error {
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
