package client

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// decodeSlow is how a message was read before decodeFast: encoding/json for
// the message, then for its op (remoteOp). It is the reference the fast
// path is held to.
func decodeSlow(data []byte) (m inMsg, err error) {
	err = json.Unmarshal(data, &m)
	return m, err
}

// sameMsg compares two decoded messages, the op by its decoded value (or
// its decoding error) and its raw bytes.
func sameMsg(t *testing.T, data []byte, got, want inMsg) {
	t.Helper()
	gotOp, gotErr := got.decodeOp()
	wantOp, wantErr := want.decodeOp()
	if (gotErr == nil) != (wantErr == nil) || !reflect.DeepEqual(gotOp, wantOp) {
		t.Fatalf("%q: op %v (%v), encoding/json %v (%v)", data, gotOp, gotErr, wantOp, wantErr)
	}
	if string(got.Op) != string(want.Op) {
		t.Fatalf("%q: raw op %s, encoding/json %s", data, got.Op, want.Op)
	}
	got.Op, want.Op = nil, nil
	got.op, got.opDecoded, want.op, want.opDecoded = nil, false, nil, false
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\nfast %+v\nslow %+v", data, got, want)
	}
}

var decodeSeeds = []string{
	`{"type":"ack","doc":"art-17","seq":12,"rev":58}`,
	`{"type":"op","doc":"art-17","rev":58,"op":[123,"shall ",{"d":"]\"["}],"client":"c-7f3a","seq":12,"by":{"delegation":"CAN","name":"Ana Silva"},"ts":1795000000000}`,
	`{"type":"op","doc":"d","rev":1,"op":["締約国 😭"],"client":"c","seq":1,"by":{"delegation":"FRA","name":"Luc Élysée"},"ts":1}`,
	`{"type":"op","doc":"art-17","rev":3,"op":[316,{"d":5}],"client":"w-a","seq":1795457761850790,"by":{"delegation":"CAN","name":"Ana Silva"},"ts":1795457761858}`,
	`{"type":"op","doc":"d","rev":1,"op":[],"client":"c","seq":1,"by":{"delegation":"F","name":"L"},"ts":1}`,
	`{"type":"op","doc":"d","rev":1,"op":[[],{},"\\"],"client":"c","seq":1,"by":{"delegation":"F","name":"L"},"ts":1}`,
	`{"type":"op","doc":"d","rev":1,"op":[1,}],"client":"c","seq":1,"by":{"delegation":"F","name":"L"},"ts":1}`,
	`{"type":"op","doc":"d","rev":1,"op":[0],"client":"c","seq":1,"by":{"delegation":"F","name":"L"},"ts":1}`,
	`{"type":"op","doc":"d","rev":1,"op":["\ud800"],"client":"c","seq":1,"by":{"delegation":"F","name":"L"},"ts":1}`,
	`{"type":"op","doc":"d","rev":1,"op":["a\u00e9\n"],"client":"c","seq":1,"by":{"delegation":"F","name":"L"},"ts":1}`,
	`{"type":"op","doc":"d","rev":1,"op":["` + "\xff" + `"],"client":"c","seq":1,"by":{"delegation":"F","name":"L"},"ts":1}`,
	`{"type":"op","doc":"d","rev":1,"op":[1],"client":"c","seq":1,"by":{"delegation":"F","name":"` + "\xff" + `"},"ts":1}`,
	`{"type":"op","doc":"d","rev":1,"op":[1 , "x" ],"client":"c","seq":1,"by":{"delegation":"F","name":"L"},"ts":1}`,
	`{"type":"op","doc":"d","rev":2,"op":[1],"client":"_draftroom","seq":2,"by":{"delegation":"CAN","name":"A"},"ts":3,"kind":"resolve","group":"b0.1"}`,
	`{"type":"op","doc":"d","rev":2,"op":[1],"client":"c","seq":2,"by":{"delegation":"CAN","name":"A \"B\""},"ts":3}`,
	`{"type":"op","doc":"d","rev":9007199254740992,"op":[1],"client":"c","seq":18446744073709551615,"by":{"delegation":"CAN","name":"A"},"ts":3}`,
	`{"type":"op","doc":"d","rev":1,"op":[1],"client":"c","seq":99999999999999999999,"by":{"delegation":"CAN","name":"A"},"ts":3}`,
	`{"doc":"d","type":"ack","seq":1,"rev":2}`,
	`{"type":"ack","doc":"d","seq":01,"rev":2}`,
	`{"type":"ack","doc":"d","seq":1.5,"rev":2}`,
	`{"type":"ack","doc":"art-17","seq":12,"rev":58,"ref":"x"}`,
	`{"type":"snapshot","doc":"d","rev":0,"text":"x","present":[]}`,
	`{"type":"op","doc":"d","rev":2,"op":[1],"client":"c","seq":2,"by":{"delegation":"CAN","name":"A\nB \u00e9"},"ts":3}`,
	`{"type":"ack","doc":"d\u002d1","seq":1,"rev":2}`,
}

func TestDecodeFast(t *testing.T) {
	t.Parallel()
	tests := []struct {
		msg  string
		fast bool
	}{
		{decodeSeeds[0], true},
		{decodeSeeds[1], true},
		{decodeSeeds[2], true},
		{decodeSeeds[4], true},
		{decodeSeeds[9], true},  // escapes inside the op are ot's decoder's
		{decodeSeeds[12], true}, // and so is white space in the op
		{decodeSeeds[5], false}, // not an op: encoding/json reads the message, remoteOp refuses the op
		{decodeSeeds[6], false}, // not JSON: encoding/json refuses the message
		{decodeSeeds[7], false},
		{decodeSeeds[8], false},
		{decodeSeeds[10], false},
		{decodeSeeds[11], false},
		{decodeSeeds[13], false},
		{decodeSeeds[14], false},
		{decodeSeeds[15], false},
		{decodeSeeds[16], false},
		{decodeSeeds[17], false},
		{decodeSeeds[18], false},
		{decodeSeeds[19], false},
		{decodeSeeds[20], false},
		{decodeSeeds[21], false},
		{decodeSeeds[22], false},
		{decodeSeeds[23], false},
	}
	var strs interner
	for _, tt := range tests {
		var fast inMsg
		ok := decodeFast([]byte(tt.msg), &fast, &strs)
		if ok != tt.fast {
			t.Errorf("decodeFast(%s) = %v, want %v", tt.msg, ok, tt.fast)
			continue
		}
		if !ok {
			continue
		}
		slow, err := decodeSlow([]byte(tt.msg))
		if err != nil {
			t.Fatal(err)
		}
		sameMsg(t, []byte(tt.msg), fast, slow)
	}
}

// TestInterner: equal strings come back as one string; long ones and a nil
// interner still convert; a full interner starts afresh.
func TestInterner(t *testing.T) {
	t.Parallel()
	var in interner
	a, b := in.get([]byte("art-17")), in.get([]byte("art-17"))
	if a != "art-17" || b != "art-17" || len(in.m) != 1 {
		t.Fatalf("got %q, %q with %d entries", a, b, len(in.m))
	}
	long := strings.Repeat("x", maxInternedLen+1)
	if in.get([]byte(long)) != long || len(in.m) != 1 {
		t.Fatalf("a long string was interned")
	}
	for i := range maxInternedCount + 1 {
		in.get([]byte(strings.Repeat("y", i%maxInternedLen) + string(rune('a'+i/maxInternedLen))))
	}
	if len(in.m) > maxInternedCount {
		t.Fatalf("%d entries, more than %d", len(in.m), maxInternedCount)
	}
	var none *interner
	if none.get([]byte("d")) != "d" {
		t.Fatal("nil interner")
	}
}

// FuzzDecodeFast holds the client's decoding of a message to encoding/json
// (decodeSlow): whatever decodeFast accepts, encoding/json accepts and
// reads the same way, op included; and decode, the path every received
// message takes, accepts exactly what encoding/json accepts, with the same
// message and the same op (or the same refusal of the op).
func FuzzDecodeFast(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	var strs interner // shared, as a reader's is across messages
	f.Fuzz(func(t *testing.T, data []byte) {
		slow, slowErr := decodeSlow(data)
		var fast inMsg
		if decodeFast(data, &fast, &strs) {
			if slowErr != nil {
				t.Fatalf("decodeFast accepted %q, encoding/json: %v", data, slowErr)
			}
			if _, err := slow.decodeOp(); fast.Type == "op" && err != nil {
				t.Fatalf("decodeFast accepted the op of %q, encoding/json: %v", data, err)
			}
			sameMsg(t, data, fast, slow)
		}
		var full inMsg
		err := decode(data, &full, &strs)
		if (err == nil) != (slowErr == nil) {
			t.Fatalf("%q: decode: %v, encoding/json: %v", data, err, slowErr)
		}
		if err == nil {
			sameMsg(t, data, full, slow)
		}
	})
}
