package storage

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

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
	f.Add("p:{other}:events", `{"node":"n1","presence":{}}`, "n\"1", "a", 0)
	f.Add("p:{d}:events", `{"node":"n1"}`, "", "\u2028", 2)
	f.Add("p:{d}:events", `not json`, "x", "]}", 1)
	f.Add("q:{d}:events", `{"node":"n1","ops":[]}`, "x", ",", 1)
	f.Add("p:{d", `{}`, "x", "", 1)
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
				if len(env.Ops) != 0 || env.Presence == nil {
					t.Fatalf("presence event from %q", payload)
				}
			default:
				t.Fatalf("event kind %v from a message", e.Kind)
			}
		default:
		}

		// The script's concatenation round-trips, whatever the node id.
		if !utf8.ValidString(node) || !utf8.ValidString(text) || text == "" {
			return
		}
		n = 1 + (n%8+8)%8
		fan = newFanout(r, RedisOptions{NodeID: node, EventBuffer: 4})
		fan.watched["d"] = 1
		ops := make([]Op, n)
		parts := make([]string, n)
		for i := range ops {
			ops[i] = Op{Rev: i + 1, Op: ot.Op{{Insert: text}}, Client: "c", Seq: uint64(i + 1), Principal: node, By: Author{node, text}, TS: int64(i)}
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
	})
}
