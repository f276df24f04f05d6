package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/server"
)

// benchPeer is a WebSocket client for BenchmarkFlood: a reader goroutine
// tracks the draft's revision and hands acks and errors to the writer.
type benchPeer struct {
	ws      *websocket.Conn
	rev     atomic.Int64
	replies chan string // "ack" or an error code
	acked   *atomic.Int64
	refused *atomic.Int64
	done    chan struct{}
}

func dialPeer(b *testing.B, url, token, client, doc string) *benchPeer {
	p, err := dialPeerErr(url, token, client, doc, new(atomic.Int64), new(atomic.Int64))
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// dialPeerErr connects, says hello and opens doc; acks and refusals are
// counted in acked and refused.
func dialPeerErr(url, token, client, doc string, acked, refused *atomic.Int64) (*benchPeer, error) {
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		return nil, err
	}
	p := &benchPeer{ws: ws, replies: make(chan string, 1<<16), done: make(chan struct{}), acked: acked, refused: refused}
	ws.WriteMessage(websocket.TextMessage, []byte(fmt.Sprintf(`{"type":"hello","client":%q,"token":%q}`, client, token)))
	ws.WriteMessage(websocket.TextMessage, []byte(fmt.Sprintf(`{"type":"open","doc":%q}`, doc)))
	opened := make(chan struct{})
	go func() {
		defer close(p.done)
		var once sync.Once
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				return
			}
			var m struct {
				Type, Code string
				Rev        int64
			}
			json.Unmarshal(data, &m)
			switch m.Type {
			case "snapshot":
				p.rev.Store(m.Rev)
				once.Do(func() { close(opened) })
			case "op":
				p.rev.Store(max(p.rev.Load(), m.Rev))
			case "ack":
				p.rev.Store(max(p.rev.Load(), m.Rev))
				p.acked.Add(1)
				select {
				case p.replies <- "ack":
				default:
				}
			case "error":
				p.refused.Add(1)
				select {
				case p.replies <- m.Code:
				default:
				}
			}
		}
	}()
	select {
	case <-opened:
	case <-p.done:
		return nil, fmt.Errorf("connection closed before open")
	case <-time.After(10 * time.Second):
		ws.Close()
		return nil, fmt.Errorf("open timed out")
	}
	return p, nil
}

// BenchmarkFlood measures the op-to-ack latency of ordinary clients editing
// a draft (each one op in flight, as the protocol asks) while another
// token floods the same draft from several connections, sending ops as
// fast as the socket takes them. "quiet" has no flood, "flood" runs with
// the default limits, "flood-unlimited" with the limits lifted, to show
// what the limits prevent. Metrics: p50/p99 ack latency of the ordinary
// clients, and the flood's committed and refused ops per second.
//
//	go test -run XXX -bench BenchmarkFlood -benchtime 2000x ./server
func BenchmarkFlood(b *testing.B) {
	unlimited := server.Config{OpsPerSecond: 1e9, OpsBurst: 1 << 30, MsgsPerSecond: 1e9, MsgsBurst: 1 << 30,
		TokenOpsPerSecond: 1e9, TokenOpsBurst: 1 << 30, TokenMsgsPerSecond: 1e9, TokenMsgsBurst: 1 << 30}
	for _, bc := range []struct {
		name  string
		flood bool
		cfg   server.Config
	}{
		{"quiet", false, server.Config{}},
		{"flood", true, server.Config{}},
		{"flood-unlimited", true, unlimited},
	} {
		b.Run(bc.name, func(b *testing.B) {
			bc.cfg.SendQueue = 1 << 14 // ordinary clients read every broadcast; do not drop them
			bc.cfg.MaxDraftLen = 1 << 30
			ss := startSecure(b, bc.cfg)
			ss.create("shared", "")
			url := "ws" + strings.TrimPrefix(ss.http.URL, "http") + "/ws"
			const clients, floodConns = 8, 4

			ctx, stop := context.WithCancel(context.Background())
			var floodWG sync.WaitGroup
			var floodAcked, floodRefused, reconnects atomic.Int64
			if bc.flood {
				tok, _ := ss.issue("FLD", "Flood", dr.RoleDrafter)
				for i := 0; i < floodConns; i++ {
					floodWG.Add(1)
					// A persistent flooder: sends ops as fast as the socket
					// takes them, and reconnects when it is dropped.
					go func() {
						defer floodWG.Done()
						seq := 0
						for ctx.Err() == nil {
							p, err := dialPeerErr(url, tok, fmt.Sprintf("flood-%d", i), "shared", &floodAcked, &floodRefused)
							if err != nil {
								time.Sleep(5 * time.Millisecond) // the readers' typing pace: the benchmark's workload
								continue
							}
							reconnects.Add(1)
							for ctx.Err() == nil {
								seq++
								msg := fmt.Sprintf(`{"type":"op","doc":"shared","rev":%d,"seq":%d,"op":["f"]}`, p.rev.Load(), seq)
								p.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
								if p.ws.WriteMessage(websocket.TextMessage, []byte(msg)) != nil {
									break
								}
							}
							p.ws.Close()
							<-p.done
						}
					}()
				}
				time.Sleep(200 * time.Millisecond) // let the flood use up its burst: a benchmark scenario's phase, not a wait for an event
			}
			peers := make([]*benchPeer, clients)
			for i := range peers {
				tok, _ := ss.issue(fmt.Sprintf("D%d", i), "Writer", dr.RoleDrafter)
				peers[i] = dialPeer(b, url, tok, fmt.Sprintf("w-%d", i), "shared")
			}
			var mu sync.Mutex
			var lat []time.Duration
			var wg sync.WaitGroup
			floodAcked0, floodRefused0, reconnects0 := floodAcked.Load(), floodRefused.Load(), reconnects.Load()
			var stalls atomic.Int64
			began := time.Now()
			b.ResetTimer()
			for i, p := range peers {
				n := b.N / clients
				if i < b.N%clients {
					n++
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					local := make([]time.Duration, 0, n)
					for seq := 1; seq <= n; seq++ {
						t0 := time.Now()
						msg := fmt.Sprintf(`{"type":"op","doc":"shared","rev":%d,"seq":%d,"op":["w"]}`, p.rev.Load(), seq)
						if err := p.ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
							b.Error(err)
							return
						}
						select {
						case r := <-p.replies:
							if r != "ack" {
								b.Errorf("ordinary client refused: %s", r)
								return
							}
						case <-time.After(5 * time.Second):
							// Without limits this is what the flood does:
							// counted, not failed; with limits it must not
							// happen.
							stalls.Add(1)
							if bc.name != "flood-unlimited" {
								b.Errorf("no ack in 5s (seq %d, rev %d)", seq, p.rev.Load())
							}
							return
						}
						local = append(local, time.Since(t0))
					}
					mu.Lock()
					lat = append(lat, local...)
					mu.Unlock()
				}()
			}
			wg.Wait()
			b.StopTimer()
			elapsed := time.Since(began).Seconds()
			fa, fr, rc := floodAcked.Load()-floodAcked0, floodRefused.Load()-floodRefused0, reconnects.Load()-reconnects0
			stop()
			for _, p := range peers {
				p.ws.Close()
			}
			floodWG.Wait()
			b.ReportMetric(float64(stalls.Load()), "stalled-clients")
			if len(lat) == 0 {
				return
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			if bc.flood {
				b.ReportMetric(float64(fa)/elapsed, "flood-acked/s")
				b.ReportMetric(float64(fr)/elapsed, "flood-refused/s")
				b.ReportMetric(float64(rc)/elapsed, "flood-reconnects/s")
			}
		})
	}
}
