package server

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/draftroom/draftroom/ot"
)

// fastOps are op messages decodeOpFast must take itself: the shapes clients
// send, in several field orders, with whitespace, refs and inserts in many
// scripts.
var fastOps = []string{
	`{"type":"op","doc":"art-17","rev":57,"seq":12,"op":[120,"shall "]}`,
	`{"doc":"art-17","type":"op","op":[120,"shall "],"seq":12,"rev":57}`,
	`{"type":"op","doc":"art-17","rev":0,"seq":0,"op":[]}`,
	`{"type":"op","doc":"art-17","rev":57,"seq":12,"op":[3,{"d":4},"x"],"ref":7}`,
	`{"type":"op","doc":"art-17","rev":57,"seq":12,"op":[{"d":"abc"}],"ref":"r-1"}`,
	` { "type" : "op" ,	"doc":"art-17",` + "\n\r" + `"rev": 57 , "seq" :12, "op" : [ 1 , "a" ] } ` + "\n",
	`{"type":"op","doc":"art-17","rev":5,"seq":9,"op":[4,"Übereinkommen über"]}`,
	`{"type":"op","doc":"art-17","rev":5,"seq":9,"op":[4,"Соглашение сторон"]}`,
	`{"type":"op","doc":"art-17","rev":5,"seq":9,"op":[4,"巴黎协定缔约方"]}`,
	`{"type":"op","doc":"art-17","rev":5,"seq":9,"op":[4,"اتفاق باريس"]}`,
	`{"type":"op","doc":"art-17","rev":5,"seq":9,"op":[4,"🌍 climate"]}`,
	`{"type":"op","doc":"art-17","rev":5,"seq":9,"op":[4,"line\nbreak \"quoted\" \u00e9 \ud83c\udf0d"]}`,
	`{"type":"op","doc":"art-17","rev":5,"seq":9,"op":[4,"[nested] {braces}"]}`,
	`{"type":"op","doc":"art-17","rev":999999999999999999,"seq":9999999999999999999,"op":[1]}`,
	`{"type":"op"}`,
	`{"type":"op","doc":"","op":["a",""]}`,
	`{"type":"op","doc":"art-17","rev":5,"seq":9,"op":[4,"a"],"ref":0}`,
}

// slowOps must go to encoding/json: each is accepted or refused there, but
// decodeOpFast leaves it alone.
var slowOps = []string{
	`{"type":"op","doc":"art-17","rev":57,"seq":12,"op":[120,"shall "],"rev":58}`, // repeated key
	`{"Type":"op","doc":"art-17","rev":57,"seq":12,"op":[1]}`,                     // encoding/json folds case
	`{"type":"op","DOC":"art-17"}`,
	`{"t\u0079pe":"op","doc":"art-17"}`,
	`{"type":"o\u0070","doc":"art-17"}`,
	`{"type":"op","doc":"art\u002d17"}`,
	`{"type":"op","doc":"art-17","client":"c-1"}`, // a field an op does not carry
	`{"type":"op","doc":"art-17","extra":1}`,
	`{"type":"opx","doc":"art-17"}`,
	`{"type":"open","doc":"art-17","rev":3}`,
	`{"doc":"art-17"}`,
	`{}`,
	`{"type":"op","doc":"art-17","rev":-1,"seq":1,"op":[1]}`,
	`{"type":"op","doc":"art-17","rev":1.0,"seq":1,"op":[1]}`,
	`{"type":"op","doc":"art-17","rev":1e2,"seq":1,"op":[1]}`,
	`{"type":"op","doc":"art-17","rev":01,"seq":1,"op":[1]}`,
	`{"type":"op","doc":"art-17","rev":"1","seq":1,"op":[1]}`,
	`{"type":"op","doc":"art-17","rev":9999999999999999999,"seq":1,"op":[1]}`,
	`{"type":"op","doc":"art-17","rev":1,"seq":99999999999999999999,"op":[1]}`,
	`{"type":"op","doc":"art-17","rev":1,"seq":1,"op":[0]}`,
	`{"type":"op","doc":"art-17","rev":1,"seq":1,"op":null}`,
	`{"type":"op","doc":"art-17","rev":null,"seq":1,"op":[1]}`,
	`{"type":"op","doc":"art-17","rev":1,"seq":1,"op":[1,]}`,
	`{"type":"op","doc":"art-17","rev":1,"seq":1,"op":[[1]]}`,
	`{"type":"op","doc":"art-17","rev":1,"seq":1,"op":{"d":1}}`,
	`{"type":"op","doc":"art-17","rev":1,"seq":1,"op":["\ud800"]}`,
	`{"type":"op","doc":"art-17","rev":1,"seq":1,"op":["` + "\xff" + `"]}`,
	`{"type":"op","doc":"` + "\xff" + `","rev":1,"seq":1,"op":[1]}`,
	`{"type":"op","doc":"a` + "\x01" + `b"}`,
	`{"type":"op","doc":"art-17","ref":{"a":1}}`,
	`{"type":"op","doc":"art-17","ref":-3}`,
	`{"type":"op","doc":"art-17","ref":"a\"b"}`,
	`{"type":"op","doc":"art-17","ref":null}`,
	`{"type":"op","doc":"art-17"}x`,
	`{"type":"op","doc":"art-17"} {}`,
	`{"type":"op","doc":"art-17",}`,
	`{"type":"op","doc":"art-17"`,
	`{"type":"op","doc":"art-17","op":[1,"a]`,
	`{"type":"op" "doc":"art-17"}`,
	"\ufeff" + `{"type":"op"}`,
	`{"type":"op","doc":"art-17"}` + "\v",
	`[{"type":"op"}]`,
	`"op"`,
	``,
	`null`,
}

func TestDecodeOpFastTakesTheUsualShapes(t *testing.T) {
	for _, in := range fastOps {
		var fast, want Inbound
		if !decodeOpFast([]byte(in), &fast) {
			t.Errorf("decodeOpFast(%q) = false, want true", in)
			continue
		}
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Errorf("encoding/json refuses %q (%v), which the fast path took", in, err)
			continue
		}
		if !reflect.DeepEqual(plain(t, fast), want) {
			t.Errorf("decodeOpFast(%q):\n got %s\nwant %s", in, showInbound(fast), showInbound(want))
		}
	}
}

func TestDecodeOpFastLeavesTheRestToEncodingJSON(t *testing.T) {
	for _, in := range slowOps {
		var m Inbound
		if decodeOpFast([]byte(in), &m) {
			t.Errorf("decodeOpFast(%q) = true, want false", in)
		}
		if !reflect.DeepEqual(m, Inbound{}) {
			t.Errorf("decodeOpFast(%q) changed m to %s", in, showInbound(m))
		}
	}
}

// TestDecodeOpFastMergesLikeEncodingJSON: decoding into an Inbound that
// already holds values keeps the fields the message lacks and writes
// numbers through the pointers already there, as encoding/json does.
func TestDecodeOpFastMergesLikeEncodingJSON(t *testing.T) {
	prefilled := func() (*Inbound, *int, *uint64) {
		rev, seq := 1, uint64(2)
		return &Inbound{Type: "hello", Doc: "old", Client: "c-1", Rev: &rev, Seq: &seq, Op: json.RawMessage(`[9]`), Ref: json.RawMessage(`5`)}, &rev, &seq
	}
	for _, in := range []string{
		`{"type":"op","doc":"art-17","rev":57,"seq":12,"op":[120,"shall "]}`,
		`{"type":"op","rev":57}`,
		`{"type":"op","seq":12,"ref":"x"}`,
		`{"type":"op"}`,
	} {
		fast, fastRev, fastSeq := prefilled()
		want, wantRev, wantSeq := prefilled()
		if !decodeOpFast([]byte(in), fast) {
			t.Fatalf("decodeOpFast(%q) = false, want true", in)
		}
		if err := json.Unmarshal([]byte(in), want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(plain(t, *fast), *want) {
			t.Errorf("decodeOpFast(%q) into a used Inbound:\n got %s\nwant %s", in, showInbound(*fast), showInbound(*want))
		}
		if (fast.Rev == fastRev) != (want.Rev == wantRev) || (fast.Seq == fastSeq) != (want.Seq == wantSeq) {
			t.Errorf("decodeOpFast(%q): reuse of the Rev/Seq pointers differs from encoding/json", in)
		}
	}
}

// FuzzDecodeInbound checks the fast path against encoding/json on any
// input: whatever decodeOpFast takes, encoding/json takes too and decodes
// to a deeply equal Inbound; and decodeInbound gives exactly the value and
// error text of decodeInboundJSON.
func FuzzDecodeInbound(f *testing.F) {
	for _, in := range fastOps {
		f.Add([]byte(in))
	}
	for _, in := range slowOps {
		f.Add([]byte(in))
	}
	for _, in := range benchOps {
		f.Add([]byte(in))
	}
	f.Add([]byte(`{"type":"hello","client":"c-1","token":"t"}`))
	f.Add([]byte(`{"type":"presence","doc":"art-17","rev":58,"sel":[[10,10],[40,52]]}`))
	f.Add([]byte(`{"type":"op","doc":"art-17","rev":"x"}`))
	f.Add([]byte(`{"type":"op","doc":"art-17","seq":-1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var fast Inbound
		took := decodeOpFast(data, &fast)
		var want Inbound
		wantErr := json.Unmarshal(data, &want)
		if took {
			if wantErr != nil {
				t.Fatalf("decodeOpFast took %q, which encoding/json refuses: %v", data, wantErr)
			}
			if !reflect.DeepEqual(plain(t, fast), want) {
				t.Fatalf("decodeOpFast(%q):\n got %s\nwant %s", data, showInbound(fast), showInbound(want))
			}
		} else if !reflect.DeepEqual(fast, Inbound{}) {
			t.Fatalf("decodeOpFast(%q) refused but changed m to %s", data, showInbound(fast))
		}

		var got, ref Inbound
		err := decodeInbound(data, &got)
		refErr := decodeInboundJSON(data, &ref)
		if fmt.Sprint(err) != fmt.Sprint(refErr) {
			t.Fatalf("decodeInbound(%q) error %v, encoding/json path %v", data, err, refErr)
		}
		if !reflect.DeepEqual(plain(t, got), ref) {
			t.Fatalf("decodeInbound(%q):\n got %s\nwant %s", data, showInbound(got), showInbound(ref))
		}
	})
}

// plain checks that the op the fast path decoded along (m.op), if any, is
// what the op handler would decode from m.Op with encoding/json, and
// returns m without it, for comparing with what encoding/json decoded.
func plain(t *testing.T, m Inbound) Inbound {
	t.Helper()
	if m.op != nil {
		var want ot.Op
		if err := json.Unmarshal(m.Op, &want); err != nil || !reflect.DeepEqual(m.op, want) {
			t.Fatalf("the op decoded along, %v, is not what encoding/json decodes from %s: %v, %v", m.op, m.Op, want, err)
		}
		m.op = nil
	}
	return m
}

func showInbound(m Inbound) string {
	rev, seq := "nil", "nil"
	if m.Rev != nil {
		rev = fmt.Sprint(*m.Rev)
	}
	if m.Seq != nil {
		seq = fmt.Sprint(*m.Seq)
	}
	return fmt.Sprintf("{Type:%q Doc:%q Rev:%s Seq:%s Op:%q Ref:%q Client:%q Sel:%q}", m.Type, m.Doc, rev, seq, m.Op, m.Ref, m.Client, m.Sel)
}

// benchOps are op messages as clients of a multilingual negotiation send
// them: short typed inserts, pasted paragraphs, deletes, in several scripts.
var benchOps = []string{
	`{"type":"op","doc":"art-17","rev":57,"seq":12,"op":[120,"shall "]}`,
	`{"type":"op","doc":"art-17","rev":58,"seq":13,"op":[126,"é"]}`,
	`{"type":"op","doc":"art-4","rev":1041,"seq":311,"op":[2290,"Les Parties s'engagent à réduire leurs émissions"]}`,
	`{"type":"op","doc":"art-4","rev":1042,"seq":88,"op":[17,"Стороны принимают меры по сокращению выбросов"],"ref":41}`,
	`{"type":"op","doc":"art-9","rev":77,"seq":5,"op":[388,"缔约方应当采取措施减少温室气体排放"]}`,
	`{"type":"op","doc":"art-9","rev":78,"seq":6,"op":[40,"تتخذ الأطراف تدابير للحد من الانبعاثات"]}`,
	`{"type":"op","doc":"art-2","rev":312,"seq":97,"op":[51,{"d":7},"should"]}`,
	`{"type":"op","doc":"art-2","rev":313,"seq":98,"op":[2,"🌍🌱 ",870,{"d":"deleted words"}]}`,
}

// BenchmarkDecodeInbound decodes op messages the way handle does, through
// encoding/json alone ("json") and through decodeInbound with its fast path
// ("fast").
func BenchmarkDecodeInbound(b *testing.B) {
	frames := make([][]byte, len(benchOps))
	size := 0
	for i, s := range benchOps {
		frames[i] = []byte(s)
		size += len(s)
	}
	for _, path := range []struct {
		name   string
		decode func([]byte, *Inbound) error
	}{
		{"json", decodeInboundJSON},
		{"fast", decodeInbound},
	} {
		b.Run(path.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size / len(frames)))
			i := 0
			for b.Loop() {
				var m Inbound
				if err := path.decode(frames[i], &m); err != nil || m.Type != "op" {
					b.Fatalf("decode %s: %v", frames[i], err)
				}
				i++
				if i == len(frames) {
					i = 0
				}
			}
		})
	}
}
