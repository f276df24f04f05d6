package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/storage"
)

// crashedStore leaves in data what a crash leaves of an embedded store
// that had acknowledged n commits of draft d from its write-ahead log only.
func crashedStore(t *testing.T, data string, n int) {
	t.Helper()
	ctx := context.Background()
	live := filepath.Join(t.TempDir(), "draftroom.db")
	s, err := storage.OpenBolt(live, storage.BoltOptions{CheckpointEvery: time.Hour, CheckpointOps: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateDraft(ctx, dr.Draft{ID: "d"}, ""); err != nil {
		t.Fatal(err)
	}
	for rev := 1; rev <= n; rev++ {
		op := dr.Op{Rev: rev, Op: ot.Op{ot.Insert("x")}, Client: "c", Seq: uint64(rev), Principal: "tok:c"}
		if err := s.Commit(ctx, "d", rev-1, dr.Commit{Ops: []dr.Op{op}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, suffix := range []string{"", ".wal.0", ".wal.1"} {
		b, err := os.ReadFile(live + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(data, "draftroom.db"+suffix), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRecoverCommand: a server refuses to start on a write-ahead log with
// a flipped byte in its middle, naming the file and what is at stake;
// `draftroom recover -data DIR` keeps the files aside, says what it kept
// and lost, and the server starts again.
func TestRecoverCommand(t *testing.T) {
	data := t.TempDir()
	crashedStore(t, data, 5)
	wal := filepath.Join(data, "draftroom.db.wal.0")
	log, err := os.ReadFile(wal)
	if err != nil {
		t.Fatal(err)
	}
	off := 0
	for range 2 { // to the third frame
		off += 8 + int(binary.LittleEndian.Uint32(log[off:]))
	}
	third := 8 + int(binary.LittleEndian.Uint32(log[off:]))
	log[off+third-2] ^= 0x01
	os.WriteFile(wal, log, 0o600)

	cfg := config{Data: data}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := openStore(cfg, quiet)
	if err == nil {
		st.Close()
		t.Fatal("the server opened a store whose log is corrupt")
	}
	if !errors.Is(err, storage.ErrCorrupt) {
		t.Fatalf("open: %v, want ErrCorrupt", err)
	}
	for _, want := range []string{wal, "draftroom recover -data " + data, "draft d revisions 4..5"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal does not say %q:\n%v", want, err)
		}
	}
	if after, _ := os.ReadFile(wal); !bytes.Equal(after, log) {
		t.Fatal("the refused open changed the log")
	}

	var out, errb bytes.Buffer
	if err := recoverCmd(context.Background(), []string{"-data", data}, &out, &errb); err != nil {
		t.Fatalf("recover: %v\n%s%s", err, out.String(), errb.String())
	}
	t.Logf("refusal:\n%v\nrecover:\n%s", err, out.String())
	for _, want := range []string{"Kept the original files aside", "draftroom.db.wal.0", "draft d revisions 1..2", "COULD NOT KEEP", "draft d revisions 4..5: intact in the log but not replayed", "d at revision 2"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report does not say %q:\n%s", want, out.String())
		}
	}
	st, err = openStore(cfg, quiet)
	if err != nil {
		t.Fatalf("open after recover: %v", err)
	}
	defer st.Close()
	if d, err := st.Draft(context.Background(), "d"); err != nil || d.Rev != 2 {
		t.Errorf("draft after recover: %+v, %v; want rev 2", d, err)
	}
}
