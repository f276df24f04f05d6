package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/ot"
)

// FuzzRedisMessage feeds arbitrary pub/sub messages to the fan-out: it must
// never panic, and whatever it delivers must be an event of a watched
// draft whose kind matches what the payload carries, tagged with its node.
// The ops form is also built exactly as the commit script builds it
// (prefix + op JSONs joined by "," + "]}") and must decode to the same ops.
func FuzzRedisMessage(f *testing.F) {
	f.Add("p:{d}:events", `{"node":"n2","ops":[{"rev":1,"op":["x"],"client":"c","seq":1,"by":{"delegation":"A","name":"B"},"ts":1}]}`, "n1", "héllo 😭", 3)
	f.Add("p:{d}:events", `{"node":"n1","presence":{"sel":[[1,2]]}}`, "n1", "", 1)
	f.Add("p:{d}:events", `{"node":"n2","conn":42,"presence":{"left":true}}`, "n1", "", 1)
	f.Add("p:{other}:events", `{"node":"n1","presence":{}}`, "n\"1", "a", 0)
	f.Add("p:{d}:events", `{"node":"n1"}`, "", "\u2028", 2)
	f.Add("p:{d}:events", `not json`, "x", "]}", 1)
	f.Add("q:{d}:events", `{"node":"n1","ops":[]}`, "x", ",", 1)
	f.Add("p:{d", `{}`, "x", "", 1)
	f.Add("p:{d}:events", `{"node":"n1","ops":[{"rev":4,"op":[3,"a"],"client":"c","seq":1,"by":{"delegation":"A","name":"B"},"ts":1},{"rev":5,"op":["b"]}]}`, "n1", "b", 2)
	f.Add("p:{d}:events", `{"node":"n1","ops":[{"rev":4,"op":!}]}`, "n1", "b", 2)
	f.Add("p:{d}:events", `{"node":"n1","ops":[{"rev":1,"by":{"rev":2}}]}`, "n1", "b", 2)
	f.Fuzz(func(t *testing.T, channel, payload, node, text string, n int) {
		r := &Redis{prefix: "p:"}
		fan := newFanout(r, RedisOptions{NodeID: "n1", EventBuffer: 4})
		fan.watched["d"] = 1
		fan.message(&redis.Message{Channel: channel, Payload: payload})
		select {
		case e := <-fan.events:
			if e.Draft != "d" || channel != "p:{d}:events" {
				t.Fatalf("event for draft %q from channel %q; only d is watched", e.Draft, channel)
			}
			var env envelope
			if err := json.Unmarshal([]byte(payload), &env); err != nil {
				t.Fatalf("event from a payload that is not an envelope: %v", err)
			}
			if e.Node != env.Node || e.Own != (env.Node == "n1") {
				t.Fatalf("event node %q own %v, payload node %q", e.Node, e.Own, env.Node)
			}
			switch e.Kind {
			case EventOps:
				if len(e.Ops) == 0 || len(e.Ops) != len(env.Ops) {
					t.Fatalf("ops event with %d ops, payload has %d", len(e.Ops), len(env.Ops))
				}
			case EventPresence:
				if len(env.Ops) != 0 || env.Presence == nil || e.Conn != env.Conn {
					t.Fatalf("presence event %+v from %q", e, payload)
				}
			default:
				t.Fatalf("event kind %v from a message", e.Kind)
			}
		default:
		}

		// Under LazyOwnOps, an own echo is recognised without decoding;
		// when it decodes, it is what the eager path delivers, and
		// anything not recognised is delivered exactly as before.
		eager := newFanout(r, RedisOptions{NodeID: "n1", EventBuffer: 4})
		eager.watched["d"] = 1
		eager.message(&redis.Message{Channel: channel, Payload: payload})
		lazy := lazyFanout("n1")
		lazy.message(&redis.Message{Channel: channel, Payload: payload})
		we, wok := tryEvent(eager)
		le, lok := tryEvent(lazy)
		if lok && le.lastRev > 0 {
			if le.Kind != EventOps || !le.Own || le.Node != "n1" || le.Draft != "d" || le.Ops != nil {
				t.Fatalf("undecoded echo %+v", le)
			}
			if ops, err := le.OpsAfter(le.lastRev); ops != nil || err != nil {
				t.Fatalf("OpsAfter(last) = %v, %v", ops, err)
			}
			if ops, err := le.OpsAfter(0); err == nil {
				gj, _ := json.Marshal(ops)
				wj, _ := json.Marshal(we.Ops)
				if !wok || string(gj) != string(wj) {
					t.Fatalf("lazy echo decoded to %s, eager delivered %v %s", gj, wok, wj)
				}
			}
		} else if lok != wok || fmt.Sprintf("%+v", le) != fmt.Sprintf("%+v", we) {
			t.Fatalf("lazy delivered %v %+v, eager %v %+v", lok, le, wok, we)
		}

		// The script's concatenation round-trips, whatever the node id.
		if !utf8.ValidString(node) || !utf8.ValidString(text) || text == "" {
			return
		}
		n = 1 + (n%8+8)%8
		fan = newFanout(r, RedisOptions{NodeID: node, EventBuffer: 4})
		fan.watched["d"] = 1
		ops := make([]dr.Op, n)
		parts := make([]string, n)
		for i := range ops {
			ops[i] = dr.Op{Rev: i + 1, Op: ot.Op{{Insert: text}}, Client: "c", Seq: uint64(i + 1), Principal: node, By: dr.Author{Delegation: node, Name: text}, TS: int64(i)}
			b, err := json.Marshal(ops[i])
			if err != nil {
				t.Fatal(err)
			}
			parts[i] = string(b)
		}
		msg := fan.opsPrefix + strings.Join(parts, ",") + "]}"
		fan.message(&redis.Message{Channel: "p:{d}:events", Payload: msg})
		select {
		case e := <-fan.events:
			got, _ := json.Marshal(e.Ops)
			want, _ := json.Marshal(ops)
			if e.Kind != EventOps || e.Node != node || !e.Own || string(got) != string(want) {
				t.Fatalf("script-built message %q decoded to %+v", msg, e)
			}
		default:
			t.Fatalf("script-built message %q delivered nothing", msg)
		}
		fan.lazyOwn.Store(true)
		fan.message(&redis.Message{Channel: "p:{d}:events", Payload: msg})
		e, ok := tryEvent(fan)
		got, err := e.OpsAfter(n - 1)
		gj, _ := json.Marshal(got)
		want, _ := json.Marshal(ops)
		if !ok || e.Ops != nil || err != nil || string(gj) != string(want) {
			t.Fatalf("lazy script-built message %q: event %v %+v, OpsAfter %s, %v", msg, ok, e, gj, err)
		}
		if got, err := e.OpsAfter(n); got != nil || err != nil {
			t.Fatalf("lazy script-built message %q: OpsAfter(last) = %v, %v", msg, got, err)
		}
	})
}

// scriptPayload builds an ops message as the commit script does for node.
func scriptPayload(t testing.TB, fan *fanout, ops []dr.Op) string {
	t.Helper()
	parts := make([]string, len(ops))
	for i, op := range ops {
		b, err := json.Marshal(op)
		if err != nil {
			t.Fatal(err)
		}
		parts[i] = string(b)
	}
	return fan.opsPrefix + strings.Join(parts, ",") + "]}"
}

func tryEvent(fan *fanout) (Event, bool) {
	select {
	case e := <-fan.events:
		return e, true
	default:
		return Event{}, false
	}
}

func lazyFanout(node string) *fanout {
	fan := newFanout(&Redis{prefix: "p:"}, RedisOptions{NodeID: node, EventBuffer: 4})
	fan.watched["d"] = 1
	fan.lazyOwn.Store(true)
	return fan
}

func realisticOps(first, n int, text string) []dr.Op {
	ops := make([]dr.Op, n)
	for i := range ops {
		rev := first + i
		ops[i] = dr.Op{Rev: rev, Op: ot.Op{{Skip: 1200 + 7*rev}, {Insert: text}}, Client: "c-7f3a9b",
			Seq: uint64(rev), Principal: "tok:c-7f3a9b", By: dr.Author{Delegation: "JPN", Name: "田中"}, TS: 1_795_000_000_000 + int64(rev)}
	}
	return ops
}

// An own echo at or below the head is skipped without being decoded: its
// op JSON is something json.Unmarshal rejects, which only a decode would
// notice. Beyond the head, the same event is decoded (and the bad one
// reported as ErrInvalid, so the receiver drops it).
func TestLazyOwnOpsSkipsWithoutDecoding(t *testing.T) {
	t.Parallel()
	fan := lazyFanout("n1")
	bad := fan.opsPrefix + `{"rev":7,"op":!},{"rev":8,"op":?}]}`
	fan.message(&redis.Message{Channel: "p:{d}:events", Payload: bad})
	e := <-fan.events
	if e.Kind != EventOps || !e.Own || e.Node != "n1" || e.Draft != "d" || e.Ops != nil {
		t.Fatalf("own echo delivered as %+v, want an undecoded own EventOps of d", e)
	}
	for _, head := range []int{8, 9, 1000} {
		if ops, err := e.OpsAfter(head); ops != nil || err != nil {
			t.Errorf("OpsAfter(%d) = %v, %v; want nil, nil without decoding", head, ops, err)
		}
	}
	for _, head := range []int{0, 6, 7} {
		if ops, err := e.OpsAfter(head); !errors.Is(err, ErrInvalid) || ops != nil {
			t.Errorf("OpsAfter(%d) of undecodable ops = %v, %v; want ErrInvalid", head, ops, err)
		}
	}

	// A well-formed echo beyond the head (a commit whose reply was lost)
	// decodes to exactly the committed ops.
	want := realisticOps(7, 3, "la Conférence ")
	fan.message(&redis.Message{Channel: "p:{d}:events", Payload: scriptPayload(t, fan, want)})
	e = <-fan.events
	if e.Ops != nil {
		t.Fatalf("own echo decoded eagerly under LazyOwnOps")
	}
	for _, head := range []int{0, 6, 8} {
		got, err := e.OpsAfter(head)
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		if err != nil || string(gj) != string(wj) {
			t.Errorf("OpsAfter(%d) = %s, %v; want %s", head, gj, err, wj)
		}
	}
	if got, err := e.OpsAfter(9); got != nil || err != nil {
		t.Errorf("OpsAfter(9) at the last rev = %v, %v; want nil", got, err)
	}
}

// Other nodes' ops, and every op without LazyOwnOps, are decoded as
// before, and OpsAfter answers the same from Ops.
func TestLazyOwnOpsOnlyOwn(t *testing.T) {
	t.Parallel()
	want := realisticOps(3, 2, "x")
	for _, c := range []struct {
		name       string
		node, from string
		lazy       bool
	}{{"other node", "n1", "n2", true}, {"own, not lazy", "n1", "n1", false}} {
		fan := lazyFanout(c.node)
		fan.lazyOwn.Store(c.lazy)
		from := lazyFanout(c.from)
		fan.message(&redis.Message{Channel: "p:{d}:events", Payload: scriptPayload(t, from, want)})
		e := <-fan.events
		if len(e.Ops) != 2 || e.Ops[1].Rev != 4 || e.Own != (c.node == c.from) {
			t.Fatalf("%s: event %+v, want 2 decoded ops", c.name, e)
		}
		if ops, err := e.OpsAfter(3); err != nil || len(ops) != 2 {
			t.Errorf("%s: OpsAfter(3) = %v, %v; want both ops", c.name, ops, err)
		}
		if ops, err := e.OpsAfter(4); err != nil || ops != nil {
			t.Errorf("%s: OpsAfter(4) = %v, %v; want nil", c.name, ops, err)
		}
	}
}

// Under LazyOwnOps, whatever the cheap recognition of an own echo rejects
// goes through the full decode, as before: a malformed message is dropped,
// and an odd but well-formed one delivered decoded.
func TestLazyOwnOpsFallsBackToDecode(t *testing.T) {
	t.Parallel()
	fan := lazyFanout("n1")
	for _, c := range []struct {
		payload string
		kept    bool
	}{
		{`not json`, false},
		{fan.opsPrefix + `]}`, false},
		{fan.opsPrefix + `{"rev":3,"op":["x"]},{"rev":2,"op":["y"]}`, false},
		{fan.opsPrefix + `{"rev":3`, false},
		{fan.opsPrefix + `{"rev":3]}`, false},
		{`{"node":"n1","ops":[]}`, false},
		{fan.opsPrefix + `{"rev":1234567890123456789012,"op":["x"]}]}`, false},
		{fan.opsPrefix + `{"rev":0,"op":["x"]}]}`, true},
		{fan.opsPrefix + `{"rev":-1,"op":["x"]}]}`, true},
		{fan.opsPrefix + `{"op":["x"],"rev":3}]}`, true},
		{fan.opsPrefix + `{"rev":5,"op":["x"]},{"rev":3,"op":["y"]}]}`, true},
		{fan.opsPrefix + ` {"rev":3,"op":["x"]}]}`, true},
	} {
		fan.message(&redis.Message{Channel: "p:{d}:events", Payload: c.payload})
		select {
		case e := <-fan.events:
			var env envelope
			_ = json.Unmarshal([]byte(c.payload), &env)
			gj, _ := json.Marshal(e.Ops)
			wj, _ := json.Marshal(env.Ops)
			if !c.kept || !e.Own || string(gj) != string(wj) {
				t.Errorf("%q delivered %+v; want %v", c.payload, e, map[bool]string{true: "its decoded ops", false: "nothing"}[c.kept])
			}
		default:
			if c.kept {
				t.Errorf("%q delivered nothing, want its decoded ops", c.payload)
			}
		}
	}
}

// BenchmarkFanoutMessage measures fan-out's handling of one pub/sub
// message of realistic ops (a typed word, and a 20-op batch), decoded
// eagerly (as before LazyOwnOps) and as an own echo under LazyOwnOps
// followed by the receiver's skip at its head.
func BenchmarkFanoutMessage(b *testing.B) {
	for _, n := range []int{1, 20} {
		ops := realisticOps(100, n, "treaty ")
		for _, c := range []struct {
			name string
			lazy bool
		}{{"eager", false}, {"lazy", true}} {
			b.Run(fmt.Sprintf("ops=%d/%s", n, c.name), func(b *testing.B) {
				fan := lazyFanout("n1")
				fan.lazyOwn.Store(c.lazy)
				m := &redis.Message{Channel: "p:{d}:events", Payload: scriptPayload(b, fan, ops)}
				b.SetBytes(int64(len(m.Payload)))
				b.ReportAllocs()
				for b.Loop() {
					fan.message(m)
					e := <-fan.events
					if got, err := e.OpsAfter(100 + n); got != nil || err != nil {
						b.Fatal(got, err)
					}
				}
			})
		}
	}
}
