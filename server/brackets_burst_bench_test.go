package server_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/server"
)

// BenchmarkBracketBurst: on the compilation text (1.2 M code points, 5,000
// groups), one drafter sends a burst of 1,500 ops that each type a '['
// while another drafter types, one op in flight at a time; reported: the
// other drafter's ack latency during the burst and with no burst
// ("quiet"), p50 and p99. "burst-in-flight-1" sends each op once the one
// before is acked, as a client does; "burst-pipelined" sends all 1,500 at
// once on the same revision (what issue 13 measured), so the owner also
// transforms each against the ones before it. Rate limits are lifted so
// the burst reaches the owner whole. Each b.N iteration is one burst.
//
//	go test -run '^$' -bench BracketBurst -benchtime 3x ./server
func BenchmarkBracketBurst(b *testing.B) {
	const burst = 1500
	for _, mode := range []string{"quiet", "burst-in-flight-1", "burst-pipelined"} {
		withBurst := mode != "quiet"
		b.Run(mode, func(b *testing.B) {
			cfg := server.Config{OpsPerSecond: 1e9, OpsBurst: 1 << 30, MsgsPerSecond: 1e9, MsgsBurst: 1 << 30,
				TokenOpsPerSecond: 1e9, TokenOpsBurst: 1 << 30, TokenMsgsPerSecond: 1e9, TokenMsgsBurst: 1 << 30,
				SendQueue: 1 << 14, MaxDraftLen: 1 << 22}
			ss := startSecure(b, cfg)
			ss.create("shared", server.CompilationText())
			url := "ws" + strings.TrimPrefix(ss.http.URL, "http") + "/ws"
			ftok, _ := ss.issue("FLD", "Burst", dr.RoleDrafter)
			wtok, _ := ss.issue("CAN", "Writer", dr.RoleDrafter)
			writer := dialPeer(b, url, wtok, "writer", "shared")
			defer writer.ws.Close()
			var lat []time.Duration
			seq := 0
			for i := 0; i < b.N; i++ {
				flood := dialPeer(b, url, ftok, fmt.Sprintf("burst-%d", i), "shared")
				done := make(chan struct{})
				go func() {
					defer close(done)
					if !withBurst {
						time.Sleep(time.Second) // the writer types alone for as long: the scenario without a burst, a duration by design
						return
					}
					deadline := time.After(60 * time.Second)
					acked := 0
					for k := 1; k <= burst; k++ {
						msg := fmt.Sprintf(`{"type":"op","doc":"shared","rev":%d,"seq":%d,"op":[%d,"["]}`,
							flood.rev.Load(), k, (k*7919)%1_000_000)
						if err := flood.ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
							b.Error(err)
							return
						}
						if mode == "burst-in-flight-1" {
							// As the protocol asks of a client: the next op
							// once this one is acked.
							select {
							case r := <-flood.replies:
								if r != "ack" {
									b.Errorf("burst op refused: %s", r)
									return
								}
								acked++
							case <-deadline:
								b.Errorf("burst: %d of %d acked in 60 s", k, burst)
								return
							}
						}
					}
					for n := acked; n < burst; n++ {
						select {
						case r := <-flood.replies:
							if r != "ack" {
								b.Errorf("burst op refused: %s", r)
								return
							}
						case <-deadline:
							b.Errorf("burst: %d of %d acked in 60 s", n, burst)
							return
						}
					}
				}()
				for running := true; running; {
					select {
					case <-done:
						running = false
						continue
					default:
					}
					seq++
					t0 := time.Now()
					msg := fmt.Sprintf(`{"type":"op","doc":"shared","rev":%d,"seq":%d,"op":[10,"w"]}`, writer.rev.Load(), seq)
					if err := writer.ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
						b.Fatal(err)
					}
					select {
					case r := <-writer.replies:
						if r != "ack" {
							b.Fatalf("writer refused: %s", r)
						}
					case <-time.After(10 * time.Second):
						b.Fatalf("writer: no ack in 10 s")
					}
					lat = append(lat, time.Since(t0))
				}
				flood.ws.Close()
			}
			slices.Sort(lat)
			if len(lat) > 0 {
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "ack-p50-ms")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "ack-p99-ms")
			}
			b.ReportMetric(float64(len(lat))/float64(b.N), "writer-ops/burst")
		})
	}
}
