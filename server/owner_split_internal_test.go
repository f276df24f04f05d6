package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
	"github.com/draftroom/draftroom/storage"
)

// TestErrorFrame: the one builder of the "error" message takes its code
// and message from ErrorCode, names the request it answers, keeps an
// internal error's detail out of the frame and logs it once.
func TestErrorFrame(t *testing.T) {
	seq := uint64(12)
	secret := errors.New("disk full at /var/lib/draftroom/secret")
	tests := []struct {
		name       string
		err        error
		to         replyTo
		want       errorMsg
		wantLogged bool
	}{
		{
			name: "refused op",
			err:  dr.Errorf(dr.CodeRevAhead, "rev 9 is ahead of the draft (at 3)"),
			to:   replyTo{doc: "d", seq: &seq, ref: json.RawMessage(`"r1"`)},
			want: errorMsg{Type: "error", Code: dr.CodeRevAhead, Message: "rev 9 is ahead of the draft (at 3)", Doc: "d", Seq: &seq, Ref: json.RawMessage(`"r1"`)},
		},
		{
			name: "well-known sentinel",
			err:  storage.ErrNotFound,
			to:   replyTo{doc: "d"},
			want: errorMsg{Type: "error", Code: dr.CodeNotFound, Message: "no such draft", Doc: "d"},
		},
		{
			name:       "internal",
			err:        secret,
			to:         replyTo{doc: "d", ref: json.RawMessage(`7`)},
			want:       errorMsg{Type: "error", Code: dr.CodeInternal, Message: "internal error; the operation was not carried out, please retry", Doc: "d", Ref: json.RawMessage(`7`)},
			wantLogged: true,
		},
		{
			name: "internal, logged where it happened",
			err:  alreadyLogged{secret},
			to:   replyTo{doc: "d"},
			want: errorMsg{Type: "error", Code: dr.CodeInternal, Message: "internal error; the operation was not carried out, please retry", Doc: "d"},
		},
		{
			name: "before hello",
			err:  dr.Errorf(dr.CodeBadRequest, "the first message must be hello"),
			to:   replyTo{code: dr.CodeUnauthorized},
			want: errorMsg{Type: "error", Code: dr.CodeUnauthorized, Message: "the first message must be hello"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			s := &Server{log: slog.New(slog.NewTextHandler(&logs, nil))}
			frame := s.errorFrame(tt.err, tt.to, "where", "draft", "d")
			want := encode(tt.want)
			if !bytes.Equal(frame, want) {
				t.Errorf("frame:\n got %s\nwant %s", frame, want)
			}
			if bytes.Contains(frame, []byte("secret")) {
				t.Errorf("frame %s shows an internal error's detail", frame)
			}
			logged := strings.Count(logs.String(), "secret")
			if tt.wantLogged && logged != 1 {
				t.Errorf("internal error logged %d times, want once: %q", logged, logs.String())
			}
			if !tt.wantLogged && logs.Len() > 0 {
				t.Errorf("logged %q, want nothing", logs.String())
			}
		})
	}
}

// TestDrainBatch: the owner batches the submissions queued behind the
// first, stops at the first request of another kind (handled next, so
// arrival order holds) and at Config.BatchMax, and never waits.
func TestDrainBatch(t *testing.T) {
	s := &Server{cfg: Config{BatchMax: 3}}
	d := newDraft(s, "d")
	first, sub2, built, sub3, sub4 := &submitReq{seq: 1}, &submitReq{seq: 2}, &builtReq{}, &submitReq{seq: 3}, &submitReq{seq: 4}
	open := &openReq{}

	d.in <- sub2
	d.in <- open
	d.in <- sub3
	next := d.drainBatch(first)
	batch := d.batch
	if len(batch) != 2 || batch[0] != first || batch[1] != sub2 {
		t.Errorf("batch %v, want [first sub2]", batch)
	}
	if next != open {
		t.Errorf("next %v, want the open request", next)
	}
	if len(d.in) != 1 || <-d.in != sub3 {
		t.Errorf("the submission after the open request was taken out of the queue")
	}

	d.in <- built
	d.in <- sub3
	d.in <- sub4
	next = d.drainBatch(first)
	batch = d.batch
	if len(batch) != 3 || batch[1] != built || batch[2] != sub3 || next != nil {
		t.Errorf("batch %v next %v, want [first built sub3] and nil (BatchMax 3)", batch, next)
	}
	if len(d.in) != 1 {
		t.Errorf("%d requests left queued, want sub4", len(d.in))
	}
	<-d.in

	next = d.drainBatch(first) // nothing queued: no wait
	batch = d.batch
	if len(batch) != 1 || next != nil {
		t.Errorf("batch %v next %v, want [first] and nil", batch, next)
	}
}

// TestIsNew: a submission is staged unless it resends one staged earlier
// in the batch (same seq) or one committed (the dedupe cache).
func TestIsNew(t *testing.T) {
	s := &Server{cfg: Config{RecentOps: 16}}
	d := newDraft(s, "d")
	key := dedupeKey{"p", "c"}
	d.rev = 7
	d.dedupe[key] = seqRev{seq: 3, rev: 7}
	staged5 := &staged{sub: &submitReq{client: "c", seq: 5}}
	pending := map[dedupeKey]*staged{}

	check := func(name string, seq uint64, wantNew bool, wantDup *staged, wantAck int) {
		t.Helper()
		it := &staged{sub: &submitReq{client: "c", seq: seq, rev: 7}}
		if got := d.isNew(pending, key, it); got != wantNew || it.dupOf != wantDup || it.ackRev != wantAck || it.err != nil {
			t.Errorf("%s: new %v dupOf %p ackRev %d err %v, want new %v dupOf %p ackRev %d", name, got, it.dupOf, it.ackRev, it.err, wantNew, wantDup, wantAck)
		}
	}
	check("resend of the last committed", 3, false, nil, 7)
	check("next seq", 4, true, nil, 0)
	pending[key] = staged5
	check("resend of one staged in the batch", 5, false, staged5, 0)
	check("after one staged in the batch", 6, true, nil, 0)
}

// TestSeqBackwardsInOneBatch: a submission whose seq is below the one its
// client had staged just before it in the same batch, and was never
// committed, is refused with bad_request and its seq, as it is when the
// greater seq was committed in an earlier batch; before, it got no answer
// at all.
func TestSeqBackwardsInOneBatch(t *testing.T) {
	ctx := context.Background()
	store := storage.NewMemory()
	if err := store.CreateDraft(ctx, dr.Draft{ID: "d", Title: "d"}, "Article 1."); err != nil {
		t.Fatal(err)
	}
	s := New(Config{Open: true}, store, nil)
	t.Cleanup(func() { s.Shutdown(ctx) })
	d := newDraft(s, "d")
	if err := d.load(); err != nil {
		t.Fatal(err)
	}
	ident, err := OpenAuth{}.Hello(ctx, Hello{Delegation: "CAN", Name: "Ana", Role: dr.RoleDrafter})
	if err != nil {
		t.Fatal(err)
	}
	c := newFakeSession(s, ident, "c")
	sub := func(seq uint64) *submitReq {
		return &submitReq{sess: c, ident: ident, client: "c", rev: 0, seq: seq, op: ot.Op{ot.Insert("x")}}
	}
	d.commitBatch([]any{sub(5), sub(4)})

	var got []map[string]any
	for _, f := range c.send.take() {
		var m map[string]any
		if err := json.Unmarshal(f, &m); err != nil {
			t.Fatal(err)
		}
		got = append(got, m)
	}
	if len(got) != 2 {
		t.Fatalf("%d answers %v, want an ack for seq 5 and an error for seq 4", len(got), got)
	}
	if got[0]["type"] != "ack" || got[0]["seq"] != 5.0 {
		t.Errorf("first answer %v, want the ack of seq 5", got[0])
	}
	if got[1]["type"] != "error" || got[1]["code"] != dr.CodeBadRequest || got[1]["seq"] != 4.0 {
		t.Errorf("second answer %v, want bad_request for seq 4", got[1])
	}
	if d.rev != 1 {
		t.Errorf("draft at rev %d, want 1 (seq 4 not applied)", d.rev)
	}
}
