package redistest

import (
	"bufio"
	"net"
	"strconv"
	"testing"
)

func ping(t *testing.T, port int) error {
	t.Helper()
	c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err == nil && line != "+PONG\r\n" {
		t.Fatalf("PING answered %q, want +PONG", line)
	}
	return err
}

// TestKillAndRestart: the server answers, is gone after Kill, and answers
// again on the same port after Start.
func TestKillAndRestart(t *testing.T) {
	s := Start(t)
	if err := ping(t, s.Port); err != nil {
		t.Fatalf("after Start: %v", err)
	}
	s.Kill()
	if err := ping(t, s.Port); err == nil {
		t.Fatal("answers after Kill")
	}
	s.Start()
	if err := ping(t, s.Port); err != nil {
		t.Fatalf("after a restart: %v", err)
	}
}
