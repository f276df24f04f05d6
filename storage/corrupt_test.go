package storage

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/draftroom/draftroom/dr"
)

// walFrames splits a log file into its frames (whole, header included).
func walFrames(t *testing.T, log []byte) [][]byte {
	t.Helper()
	var frames [][]byte
	for off := 0; off < len(log); {
		n := 8 + int(binary.LittleEndian.Uint32(log[off:]))
		frames = append(frames, log[off:off+n])
		off += n
	}
	return frames
}

// storeFiles reads the bbolt file and the two log files at path.
func storeFiles(t *testing.T, path string) [3][]byte {
	t.Helper()
	var out [3][]byte
	for i, suffix := range []string{"", walSuffixes[0], walSuffixes[1]} {
		data, err := os.ReadFile(path + suffix)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = data
	}
	return out
}

// wantRefused opens path, wants a *WALCorruptError about file at offset
// with the given revisions at stake, and wants every file unchanged.
func wantRefused(t *testing.T, path, file string, offset int64, stake string) *WALCorruptError {
	t.Helper()
	before := storeFiles(t, path)
	b, err := OpenBolt(path, BoltOptions{})
	if err == nil {
		b.Close()
		t.Fatal("OpenBolt opened a store whose log is corrupt")
	}
	var ce *WALCorruptError
	if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("OpenBolt: %v, want a WALCorruptError", err)
	}
	if ce.File != file || ce.Offset != offset {
		t.Errorf("corruption reported in %s at %d, want %s at %d", ce.File, ce.Offset, file, offset)
	}
	for _, want := range []string{file, "recover", stake} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the message does not say %q:\n%v", want, err)
		}
	}
	after := storeFiles(t, path)
	for i, name := range []string{"bbolt file", "wal.0", "wal.1"} {
		if !bytes.Equal(before[i], after[i]) {
			t.Errorf("the refused open changed the %s (%d bytes, was %d)", name, len(after[i]), len(before[i]))
		}
	}
	return ce
}

// TestWALCorruptMiddle: one flipped byte in the middle of the log (in a
// frame's text, or in its length) is corruption of acknowledged commits,
// not a torn tail: the store refuses to open, names the file, the offset
// and the revisions at stake, and changes nothing. Before, it cut the log
// at the bad frame and opened without a word, losing revisions 3..6.
func TestWALCorruptMiddle(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		flip  func(frame []byte) // frame 3 of 6
		stake string
	}{
		{"text", func(f []byte) { f[len(f)-3] ^= 0x20 }, "draft d revision 3 (probably: read from a damaged frame); draft d revisions 4..6"},
		{"length", func(f []byte) { f[3] ^= 0x40 }, "draft d revisions 4..6"},
		{"checksum", func(f []byte) { f[5] ^= 1 }, "draft d revision 3 (probably: read from a damaged frame); draft d revisions 4..6"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "draftroom.db")
			crashWithLogged(t, path, "d", 6)
			log, _ := os.ReadFile(path + walSuffixes[0])
			frames := walFrames(t, log)
			off := int64(len(frames[0]) + len(frames[1]))
			tc.flip(frames[2])
			if err := os.WriteFile(path+walSuffixes[0], bytes.Join(frames, nil), 0o600); err != nil {
				t.Fatal(err)
			}
			ce := wantRefused(t, path, path+walSuffixes[0], off, tc.stake)
			if ce.Following != 3 {
				t.Errorf("%d intact frames after the damage, want 3", ce.Following)
			}
		})
	}
}

// TestWALCorruptBothFiles: with both log files holding commits (a crash
// during a checkpoint), damage in the middle of the second is found, and
// neither file is touched.
func TestWALCorruptBothFiles(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "draftroom.db")
	crashWithLogged(t, path, "d", 6)
	log, _ := os.ReadFile(path + walSuffixes[0])
	frames := walFrames(t, log)
	frames[4][len(frames[4])-2] ^= 0xff
	os.WriteFile(path+walSuffixes[0], bytes.Join(frames[:3], nil), 0o600)
	os.WriteFile(path+walSuffixes[1], bytes.Join(frames[3:], nil), 0o600)
	wantRefused(t, path, path+walSuffixes[1], int64(len(frames[3])), "draft d revision 5 (probably: read from a damaged frame); draft d revision 6")
}

// TestWALCutSyncedTail: a log cut in the middle of its last frame (which
// was synced, so perhaps acknowledged) cannot be told from a torn write:
// it is cut, and a log line says where, how many bytes, and which
// revisions the frame held. Before, it was cut without a word.
func TestWALCutSyncedTail(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "draftroom.db")
	crashWithLogged(t, path, "d", 4)
	log, _ := os.ReadFile(path + walSuffixes[0])
	frames := walFrames(t, log)
	cutAt := len(log) - len(frames[3]) + 20
	os.WriteFile(path+walSuffixes[0], log[:cutAt], 0o600)
	var logs bytes.Buffer
	b, err := OpenBolt(path, BoltOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	wantOps(t, b, "d", 3)
	line := logs.String()
	for _, want := range []string{"torn tail", walSuffixes[0], "offset=" + strconv.Itoa(len(log)-len(frames[3])), "bytes=20", "draft d revision 4"} {
		if !strings.Contains(line, want) {
			t.Errorf("the log line does not say %q: %q", want, line)
		}
	}
}

// TestRecoverBolt: `draftroom recover` on a store refused for a flipped
// byte keeps the three original files aside unchanged, replays the
// commits before the damage, reports the damaged frame and the commits
// after it that cannot follow the lost revision, and leaves a store that
// opens.
func TestRecoverBolt(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "draftroom.db")
	crashWithLogged(t, path, "d", 6)
	log, _ := os.ReadFile(path + walSuffixes[0])
	frames := walFrames(t, log)
	frames[2][len(frames[2])-3] ^= 0x20
	os.WriteFile(path+walSuffixes[0], bytes.Join(frames, nil), 0o600)
	originals := storeFiles(t, path)

	rec, err := RecoverBolt(path, time.Date(2026, 12, 4, 19, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(filepath.Dir(path), "recovered-20261204T190000Z"); rec.Aside != want || len(rec.Kept) != 3 {
		t.Fatalf("kept %v in %s, want the 3 files in %s", rec.Kept, rec.Aside, want)
	}
	for i, name := range []string{"draftroom.db", "draftroom.db.wal.0", "draftroom.db.wal.1"} {
		data, err := os.ReadFile(filepath.Join(rec.Aside, name))
		if err != nil || !bytes.Equal(data, originals[i]) {
			t.Errorf("%s kept aside differs from the original (%v)", name, err)
		}
	}
	if got := joinRanges(rec.Replayed); got != "draft d revisions 1..2" {
		t.Errorf("replayed %s, want draft d revisions 1..2", got)
	}
	lost := strings.Join(rec.Lost, "\n")
	for _, want := range []string{"wal.0 bytes " + strconv.Itoa(len(frames[0])+len(frames[1])), "seemed to hold draft d revision 3", "draft d revisions 4..6: intact in the log but not replayed: revision 3 before them is lost"} {
		if !strings.Contains(lost, want) {
			t.Errorf("the report of what was lost does not say %q:\n%s", want, lost)
		}
	}
	if rec.Heads["d"] != 2 {
		t.Errorf("head after recovery %d, want 2", rec.Heads["d"])
	}
	b := reopen(t, path)
	wantOps(t, b, "d", 2)
	if err := b.Commit(context.Background(), "d", 2, dr.Commit{Ops: []dr.Op{testOp(3, "c", 30)}}); err != nil {
		t.Fatalf("commit after recovery: %v", err)
	}

	// With the store open (a server running), recover refuses.
	if _, err := RecoverBolt(path, time.Now()); err == nil || !strings.Contains(err.Error(), "stop the server") {
		t.Errorf("recover of an open store: %v, want a refusal", err)
	}
}

// FuzzScanWAL: whatever the bytes, the scan covers the file exactly, in
// order, with intact frames and damaged stretches; every frame it keeps
// passes its checksum; and a valid log followed by anything keeps all of
// the valid log's frames (damage after them never costs one of them).
func FuzzScanWAL(f *testing.F) {
	var valid []byte
	for i := range 4 {
		enc := &encodedCommit{ops: [][]byte{appendOpRecord(nil, testOp(i+1, "c", uint64(i+1)))}, clients: [][]byte{clientKey("tok:c", "c")}, seqs: []uint64{uint64(i + 1)}, lastRev: i + 1}
		valid = appendWALFrame(valid, appendWALRecord(nil, &walCommit{id: "d", base: i, enc: enc}))
	}
	f.Add(valid, []byte{})
	f.Add(valid[:len(valid)/2], valid[len(valid)/2+3:])
	f.Add([]byte{}, make([]byte, 64))
	f.Add(valid[:40], []byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, log, tail []byte) {
		data := append(append([]byte{}, log...), tail...)
		s := scanWAL("fuzz", data)
		pos := int64(0)
		fi, di := 0, 0
		for pos < int64(len(data)) {
			switch {
			case fi < len(s.frames) && s.frames[fi].off == pos:
				n, ok := frameAt(data, int(pos))
				if !ok || n != len(s.frames[fi].payload) {
					t.Fatalf("frame at %d is not intact", pos)
				}
				pos += 8 + int64(n)
				fi++
			case di < len(s.damage) && s.damage[di].off == pos:
				if s.damage[di].end <= pos {
					t.Fatalf("empty damage at %d", pos)
				}
				pos = s.damage[di].end
				di++
			default:
				t.Fatalf("nothing covers byte %d", pos)
			}
		}
		if pos != int64(len(data)) || fi != len(s.frames) || di != len(s.damage) {
			t.Fatalf("the scan does not cover the file exactly")
		}
		// The frames of the longest valid prefix of log survive.
		prefix := scanWAL("prefix", log)
		for i, fr := range prefix.frames {
			if len(prefix.damage) > 0 && fr.off > prefix.damage[0].off {
				break
			}
			if i >= len(s.frames) || s.frames[i].off != fr.off {
				t.Fatalf("frame %d of the log (at %d) is lost once bytes follow it", i, fr.off)
			}
		}
	})
}
