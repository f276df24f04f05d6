package server_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/draftroom/draftroom/server"
	"github.com/draftroom/draftroom/storage"
)

// TestHugeFrameClosesWith1009: a message far beyond the hard limit (8× the
// frame limit) is refused at the header of the frame that crosses it; the
// peer, still sending, must finish sending without a reset and then read
// the 1009 close frame (a lingering close). Both as one frame and as a
// fragmented message (gorilla fragments at its write buffer size).
func TestHugeFrameClosesWith1009(t *testing.T) {
	ls := startServer(t, storage.NewMemory(), server.Config{MaxFrameBytes: 1 << 10})
	big := []byte(`{"type":"presence","pad":"` + strings.Repeat("x", 16<<20) + `"}`)
	for name, bufSize := range map[string]int{"fragmented": 4096, "one frame": len(big) + 64} {
		t.Run(name, func(t *testing.T) {
			d := websocket.Dialer{WriteBufferSize: bufSize}
			ws, _, err := d.Dial(ls.wsURL(), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			rc := &rawConn{t, ws}
			rc.hello("drafter")
			// Like most simple clients, write the whole message, then read.
			ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if err := ws.WriteMessage(websocket.TextMessage, big); err != nil {
				t.Errorf("write of the huge message: %v, want the server to read it to its end before closing", err)
			}
			ws.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, _, err = ws.ReadMessage()
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != websocket.CloseMessageTooBig {
				t.Fatalf("read after a huge message: %v, want close 1009", err)
			}
		})
	}
}
