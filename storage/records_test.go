package storage

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
)

func sampleOps() []dr.Op {
	return []dr.Op{
		{Rev: 1, Op: ot.Op{{Insert: "各締約国は 😭"}}, Client: "c-7f3a", Seq: 12, Principal: "tok:t1", By: dr.Author{Delegation: "CAN", Name: "Ana"}, TS: 1795000000000},
		{Rev: 2, Op: ot.Op{{Skip: 3}, {Delete: 2, Deleted: "😭e"}, {Insert: "x"}, {Delete: 4}}, Client: "_draftroom", Seq: 2, Principal: "system", By: dr.Author{Delegation: "EGY", Name: "ليلى"}, TS: -1, Kind: dr.KindResolve, Group: "b1.0"},
		{Rev: 3, Op: ot.Op{}, Seq: 1<<64 - 1},
		// Malformed components round-trip too: storage keeps what it is given.
		{Rev: 4, Op: ot.Op{{}, {Skip: -5, Insert: "both"}, {Delete: -1}}},
	}
}

func TestOpRecordRoundTrip(t *testing.T) {
	t.Parallel()
	for _, op := range sampleOps() {
		got, err := decodeOpRecord(op.Rev, appendOpRecord(nil, op))
		if err != nil {
			t.Fatalf("decode %+v: %v", op, err)
		}
		if len(op.Op) == 0 {
			op.Op = ot.Op{} // the decoder always makes a slice
		}
		if !reflect.DeepEqual(got, op) {
			t.Errorf("round trip:\ngot  %+v\nwant %+v", got, op)
		}
	}
}

// TestOpRecordRandom round-trips random ops with random field values.
func TestOpRecordRandom(t *testing.T) {
	t.Parallel()
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	pieces := []string{"", "a", "😭", "各", "\x00", "ليلى", "e\u0301", "[x/y]"}
	str := func() string {
		s := ""
		for range rng.IntN(4) {
			s += pieces[rng.IntN(len(pieces))]
		}
		return s
	}
	num := func() int {
		switch rng.IntN(4) {
		case 0:
			return 0
		case 1:
			return rng.IntN(10)
		case 2:
			return -rng.IntN(1 << 40)
		default:
			return rng.IntN(1 << 50)
		}
	}
	for range 2000 {
		op := dr.Op{Rev: rng.IntN(1000), Client: str(), Seq: rng.Uint64(), Principal: str(), By: dr.Author{Delegation: str(), Name: str()}, TS: rng.Int64() - 1<<62, Kind: str(), Group: str()}
		op.Op = make(ot.Op, rng.IntN(6))
		for i := range op.Op {
			op.Op[i] = ot.Component{Skip: num(), Insert: str(), Delete: num(), Deleted: str()}
		}
		got, err := decodeOpRecord(op.Rev, appendOpRecord(nil, op))
		if err != nil || !reflect.DeepEqual(got, op) {
			t.Fatalf("round trip of %+v: got %+v, %v", op, got, err)
		}
	}
}

func TestOpRecordDamaged(t *testing.T) {
	t.Parallel()
	rec := appendOpRecord(nil, sampleOps()[1])
	cases := map[string][]byte{
		"empty":         nil,
		"version":       append([]byte{9}, rec[1:]...),
		"truncated":     rec[:len(rec)-1],
		"trailing":      append(append([]byte{}, rec...), 0),
		"huge count":    {opRecordV1, 1, 2, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"unknown flags": {opRecordV1, 1, 2, 0, 0, 0, 0, 0, 0, 1, 0x10},
	}
	for name, b := range cases {
		if _, err := decodeOpRecord(1, b); !errors.Is(err, errBadRecord) {
			t.Errorf("%s: got %v, want errBadRecord", name, err)
		}
	}
}

// FuzzOpRecord: any bytes decode to an op or to errBadRecord, never a
// panic; whatever decodes encodes and decodes back to itself.
func FuzzOpRecord(f *testing.F) {
	for _, op := range sampleOps() {
		f.Add(appendOpRecord(nil, op))
	}
	f.Add([]byte{})
	f.Add([]byte{opRecordV1, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		op, err := decodeOpRecord(7, b)
		if err != nil {
			if !errors.Is(err, errBadRecord) {
				t.Fatalf("error %v does not wrap errBadRecord", err)
			}
			return
		}
		again, err := decodeOpRecord(7, appendOpRecord(nil, op))
		if err != nil || !reflect.DeepEqual(again, op) {
			t.Fatalf("re-encoding %+v gave %+v, %v", op, again, err)
		}
	})
}

func sampleSnapshots() []dr.Snapshot {
	return []dr.Snapshot{
		{Rev: 0, Text: ""},
		{Rev: 256, Text: "各締約国は 😭 e\u0301\x00", Meta: map[string]json.RawMessage{
			"authors":  json.RawMessage(`{ "CAN" : [0, 3] }`), // kept as given, spaces and all
			"brackets": json.RawMessage(`not even json`),
			"":         json.RawMessage{},
		}},
	}
}

func TestSnapshotRecordRoundTrip(t *testing.T) {
	t.Parallel()
	for _, s := range sampleSnapshots() {
		rec := appendSnapshotRecord(nil, s)
		got, err := decodeSnapshotRecord(s.Rev, rec)
		if err != nil {
			t.Fatalf("decode %+v: %v", s, err)
		}
		if !reflect.DeepEqual(got, s) {
			t.Errorf("round trip:\ngot  %+v\nwant %+v", got, s)
		}
		// Map order must not leak into the bytes.
		if again := appendSnapshotRecord(nil, got); string(again) != string(rec) {
			t.Errorf("the same snapshot encoded differently")
		}
		if len(rec) > 1 {
			if _, err := decodeSnapshotRecord(0, rec[:len(rec)-1]); !errors.Is(err, errBadRecord) {
				t.Errorf("truncated record: got %v, want errBadRecord", err)
			}
		}
	}
	if _, err := decodeSnapshotRecord(0, []byte{2, 0, 0}); !errors.Is(err, errBadRecord) {
		t.Errorf("unknown version: got %v, want errBadRecord", err)
	}
}

// FuzzSnapshotRecord: any bytes decode to a snapshot or to errBadRecord;
// whatever decodes encodes and decodes back to itself.
func FuzzSnapshotRecord(f *testing.F) {
	for _, s := range sampleSnapshots() {
		f.Add(appendSnapshotRecord(nil, s))
	}
	f.Add([]byte{snapshotRecordV1, 0, 0xff, 0xff, 0x03})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeSnapshotRecord(3, b)
		if err != nil {
			if !errors.Is(err, errBadRecord) {
				t.Fatalf("error %v does not wrap errBadRecord", err)
			}
			return
		}
		again, err := decodeSnapshotRecord(3, appendSnapshotRecord(nil, s))
		if err != nil || !reflect.DeepEqual(again, s) {
			t.Fatalf("re-encoding %+v gave %+v, %v", s, again, err)
		}
	})
}
