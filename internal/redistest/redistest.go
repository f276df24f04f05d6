// Package redistest runs throwaway redis-server processes for tests: on a
// free loopback port, in a temporary directory, with the durability a
// deployment needs (appendonly, appendfsync always), so that a test can kill
// one and start it again on the same port and directory without losing
// anything it acknowledged. Tests skip, saying why, when redis-server is not
// installed (.ci/run installs it).
package redistest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/draftroom/draftroom/internal/testenv"
)

// Server is one redis-server of a test's own.
type Server struct {
	t    testing.TB
	Port int
	Dir  string
	cmd  *exec.Cmd
	args []string
}

// Installed skips t when redis-server is not on the PATH.
func Installed(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		testenv.MissingTool(t, "redis-server is not installed (apt-get install -y redis-server): no Redis to test against")
	}
}

// Start starts a redis-server with extra arguments (such as "--replicaof"
// or "--maxmemory"); it is killed when the test ends.
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	s := New(t, extra...)
	s.Start()
	return s
}

// New prepares a redis-server on a free port without starting it.
func New(t testing.TB, extra ...string) *Server {
	t.Helper()
	Installed(t)
	s := &Server{t: t, Port: FreePort(t), Dir: t.TempDir(), args: extra}
	t.Cleanup(s.Kill)
	return s
}

// URL returns $REDIS_URL when it is set (.ci/redis.sh starts a server and
// sets it), else the URL of a redis-server of the test's own.
func URL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	return Start(t).URL()
}

// URL is the server's redis:// URL (database 0).
func (s *Server) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", s.Port) }

// Start starts (or starts again) the server on its port and directory and
// waits until it answers PING with PONG: a restarted server accepts
// connections while it is still loading its append-only file, and answers
// every command with -LOADING until it has.
func (s *Server) Start() {
	s.t.Helper()
	s.cmd = exec.Command("redis-server", "--bind", "127.0.0.1", "--port", strconv.Itoa(s.Port),
		"--dir", s.Dir, "--save", "", "--appendonly", "yes", "--appendfsync", "always",
		"--logfile", filepath.Join(s.Dir, "redis.log"))
	s.cmd.Args = append(s.cmd.Args, s.args...)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	last := "no answer"
	for range 400 {
		reply, err := s.ping()
		if err == nil && reply == "+PONG" {
			return
		}
		if err != nil {
			last = err.Error()
		} else {
			last = reply
		}
		time.Sleep(25 * time.Millisecond)
	}
	s.t.Fatalf("redis-server on port %d is not ready after 10s (last answer: %s; log: %s)",
		s.Port, last, filepath.Join(s.Dir, "redis.log"))
}

// ping sends one PING and returns the first line of the reply.
func (s *Server) ping() (string, error) {
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)), 100*time.Millisecond)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimRight(line, "\r\n"), err
}

// Kill stops the server with SIGKILL: with appendfsync always, nothing it
// acknowledged may be lost.
func (s *Server) Kill() {
	if s.cmd != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		s.cmd = nil
	}
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
