package main

// `draftroom backup -server URL -out FILE`: download a consistent copy of
// a running server's embedded store (GET /api/admin/backup) as a
// facilitator. The file is written under a temporary name and renamed
// when complete, so FILE never holds a partial copy; it is then checked
// like `draftroom check` before the command reports success.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/draftroom/draftroom/storage"
)

const backupUsage = `usage: draftroom backup -server URL -out FILE

Downloads a consistent copy of a running server's embedded store, taken
while it serves, as a facilitator: the token in DRAFTROOM_TOKEN (or -token).
To restore, put FILE as draftroom.db into an empty directory and start
draftroom -data DIR (check it first with draftroom check -data DIR).

flags:
`

func backupCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", "", "the running server's URL (http://host:port)")
	out := fs.String("out", "", "file to write the copy to (replaced only once the copy is complete)")
	token := fs.String("token", os.Getenv("DRAFTROOM_TOKEN"), "facilitator token (prefer env DRAFTROOM_TOKEN)")
	fs.Usage = func() { fmt.Fprint(stderr, backupUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *server == "" || *out == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("backup: give -server URL and -out FILE")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(*server, "/")+"/api/admin/backup", nil)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if *token != "" {
		req.Header.Set("Authorization", "Bearer "+*token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct{ Code, Message string }
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if json.Unmarshal(body, &e) == nil && e.Error.Code != "" {
			return fmt.Errorf("backup: %s: %s", e.Error.Code, e.Error.Message)
		}
		return fmt.Errorf("backup: %s", resp.Status)
	}
	n, err := writeFileAtomic(*out, resp.Body, resp.ContentLength)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	rep, err := storage.VerifyBolt(*out)
	if err != nil {
		return fmt.Errorf("backup: the copy in %s does not check out: %w", *out, err)
	}
	fmt.Fprintf(stdout, "backup: %s, %d bytes, %d drafts, %d ops\n", *out, n, rep.Drafts, rep.Ops)
	return nil
}

// writeFileAtomic copies r to path through a temporary file in the same
// directory, synced and renamed when complete; want >= 0 is the length
// the copy must have (a cut connection gives a short body).
func writeFileAtomic(path string, r io.Reader, want int64) (n int64, err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, base+storage.BackupTemp+"*")
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if n, err = io.Copy(f, r); err != nil {
		return n, err
	}
	if want >= 0 && n != want {
		return n, fmt.Errorf("the server sent %d of %d bytes", n, want)
	}
	if err = f.Sync(); err != nil {
		return n, err
	}
	if err = f.Close(); err != nil {
		return n, err
	}
	return n, os.Rename(f.Name(), path)
}
