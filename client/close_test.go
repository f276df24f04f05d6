package client_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/draftroom/draftroom/client"
)

// TestCloseWhileReconnecting: Close called while the client is dialing a
// new connection (after a drop) returns, instead of leaving the reader on
// the new connection forever.
func TestCloseWhileReconnecting(t *testing.T) {
	t.Parallel()
	var conns atomic.Int32
	second := make(chan struct{})
	release := make(chan struct{})
	up := websocket.Upgrader{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		var hello map[string]any
		if ws.ReadJSON(&hello) != nil {
			return
		}
		n := conns.Add(1)
		if n == 2 {
			close(second)
			<-release // the client is inside reconnect, dialing
		}
		ws.WriteJSON(map[string]string{"type": "welcome", "client": "c1", "delegation": "CAN", "name": "Ana", "role": "drafter"})
		if n == 1 {
			return // drop the first connection at once
		}
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	}))
	defer hs.Close()
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	c, err := client.Dial(context.Background(), "ws"+strings.TrimPrefix(hs.URL, "http")+"/ws",
		client.Options{ClientID: "c1", Delegation: "CAN", Name: "Ana", Role: "drafter", MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-second:
	case <-time.After(5 * time.Second):
		t.Fatal("the client did not reconnect")
	}
	closed := make(chan struct{})
	go func() {
		c.Close()
		close(closed)
	}()
	select { // Close has marked the client closed, finding no connection
	case <-c.Closing():
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not begin")
	}
	close(release)
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return: the reader kept the connection made during Close")
	}
}
