package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/draftroom/draftroom/client"
	"github.com/draftroom/draftroom/ot"
)

// TestStoreChoice: REDIS_URL in the environment selects Redis, but a -data
// given on the command line wins (scripts and tests pass a fresh -data and
// must get it), and -data with -redis is refused.
func TestStoreChoice(t *testing.T) {
	env := func(k string) string {
		if k == "REDIS_URL" {
			return "redis://127.0.0.1:1/0"
		}
		return ""
	}
	tests := []struct {
		args      []string
		wantRedis string
		wantErr   bool
	}{
		{nil, "redis://127.0.0.1:1/0", false},
		{[]string{"-data", "d"}, "", false},
		{[]string{"-redis", "redis://h:2/0"}, "redis://h:2/0", false},
		{[]string{"-data", "d", "-redis", "redis://h:2/0"}, "", true},
	}
	for _, tt := range tests {
		cfg, err := parseConfig(tt.args, env, io.Discard)
		if tt.wantErr {
			if err == nil {
				t.Errorf("%v: no error, want one for -data with -redis", tt.args)
			}
			continue
		}
		if err != nil || cfg.Redis != tt.wantRedis {
			t.Errorf("%v: Redis %q, err %v; want %q", tt.args, cfg.Redis, err, tt.wantRedis)
		}
	}
}

func TestParseConfig(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		addr    string
		open    bool
		wantErr string
	}{
		{"defaults", nil, nil, defaultAddr, true, ""},
		{"flags", []string{"-addr", "127.0.0.1:9", "-data", "d", "-open=false"}, nil, "127.0.0.1:9", false, ""},
		{"env", nil, map[string]string{"DRAFTROOM_ADDR": "[::1]:7", "DRAFTROOM_OPEN": "false"}, "[::1]:7", false, ""},
		{"public address is closed by default", []string{"-addr", "0.0.0.0:8080"}, nil, "0.0.0.0:8080", false, ""},
		{"open on a public address is refused", []string{"-addr", ":8080", "-open"}, nil, "", false, "refusing open mode"},
		{"env open on a public address is refused", []string{"-addr", "10.1.2.3:80"}, map[string]string{"DRAFTROOM_OPEN": "1"}, "", false, "refusing open mode"},
		{"unless deliberately allowed", []string{"-addr", ":8080", "-open", "-open-public-i-know"}, nil, ":8080", true, ""},
		{"bad env", nil, map[string]string{"DRAFTROOM_OPEN": "maybe"}, "", false, "DRAFTROOM_OPEN"},
		{"stray argument", []string{"extra"}, nil, "", false, "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseConfig(tt.args, env(tt.env), io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Addr != tt.addr || cfg.Open != tt.open || cfg.Server.Open != tt.open {
				t.Fatalf("addr %q open %v, want %q %v", cfg.Addr, cfg.Open, tt.addr, tt.open)
			}
		})
	}
}

// process is the real draftroom binary running on a port of its own.
type process struct {
	t    *testing.T
	cmd  *exec.Cmd
	base string
	out  *output
	done chan struct{} // closed when the process has exited (err set)
	err  error
}

// output collects a child's stdout and stderr, safe to read while the
// child writes, and passes on the address the server says it listens on.
type output struct {
	mu        sync.Mutex
	b         bytes.Buffer
	listening chan string // the base URL, once
	told      bool
	wrote     chan struct{} // a token after each write (capacity 1)
}

var listeningLine = regexp.MustCompile(`draftroom listening on (https?://[^/\s]+)/`)

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.b.Write(p)
	select {
	case o.wrote <- struct{}{}:
	default:
	}
	if !o.told {
		if m := listeningLine.FindSubmatch(o.b.Bytes()); m != nil {
			o.told = true
			o.listening <- string(m[1])
		}
	}
	return len(p), nil
}

// waitFor waits until the output holds s, failing t after a minute.
func (o *output) waitFor(t *testing.T, s string) {
	t.Helper()
	timeout := time.After(time.Minute)
	for !strings.Contains(o.String(), s) {
		select {
		case <-o.wrote:
		case <-timeout:
			t.Fatalf("the server never said %q:\n%s", s, o)
		}
	}
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// builtBin is the draftroom binary the tests run, built once per test run
// into a directory TestMain removes.
var builtBin struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if builtBin.dir != "" {
		os.RemoveAll(builtBin.dir)
	}
	os.Exit(code)
}

// buildBinary returns the path of the draftroom binary, building it on the
// first call.
func buildBinary(t *testing.T) string {
	t.Helper()
	builtBin.once.Do(func() {
		if builtBin.dir, builtBin.err = os.MkdirTemp("", "draftroom-bin-"); builtBin.err != nil {
			return
		}
		builtBin.path = filepath.Join(builtBin.dir, "draftroom")
		if out, err := exec.Command("go", "build", "-o", builtBin.path, ".").CombinedOutput(); err != nil {
			builtBin.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if builtBin.err != nil {
		t.Fatal(builtBin.err)
	}
	return builtBin.path
}

// start runs the binary on data in open mode, with extra flags, on a port
// the kernel picks, and waits until it says where it listens.
func start(t *testing.T, bin, data string, extra ...string) *process {
	t.Helper()
	out := &output{listening: make(chan string, 1), wrote: make(chan struct{}, 1)}
	p := &process{t: t, cmd: exec.Command(bin, append([]string{"-addr", "127.0.0.1:0", "-data", data, "-open"}, extra...)...), out: out, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = out, out
	// The embedded store on DIR, whatever the environment says (CI sets
	// REDIS_URL for the Redis tests).
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "REDIS_URL=") && !strings.HasPrefix(kv, "DRAFTROOM_") {
			p.cmd.Env = append(p.cmd.Env, kv)
		}
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	select {
	case p.base = <-out.listening:
		return p
	case <-p.done:
		t.Fatalf("the server exited before listening: %v\n%s", p.err, out)
	case <-time.After(60 * time.Second):
		t.Fatalf("the server did not say where it listens in 60s\n%s", out)
	}
	return nil
}

func (p *process) getJSON(path string, out any) {
	p.t.Helper()
	resp, err := http.Get(p.base + path)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		p.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		p.t.Fatal(err)
	}
}

type ackKey struct {
	client string
	seq    uint64
}

// TestCrashSafety kills the server with SIGKILL while clients edit, restarts
// it on the same data directory, and checks that every acknowledged op is in
// the log and the log replays to the stored text.
func TestCrashSafety(t *testing.T) {
	t.Parallel() // its own process, port and directory
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	data := t.TempDir()
	p := start(t, bin, data)
	const initial = "Article 4. Les Parties [s'engagent/conviennent] à …"
	body := fmt.Sprintf(`{"id":"art-4","title":"Article 4","text":%q}`, initial)
	resp, err := http.Post(p.base+"/api/docs", "application/json", strings.NewReader(body))
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %v %v", err, resp)
	}
	resp.Body.Close()

	var mu sync.Mutex
	acked := map[ackKey]int{}
	const enoughAcks = 300
	enough := make(chan struct{}) // closed at the 300th ack
	ctx := context.Background()
	wsURL := "ws" + strings.TrimPrefix(p.base, "http") + "/ws"
	var clients []*client.Client
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := range 4 {
		id := fmt.Sprintf("crash-%d", i)
		c, err := client.Dial(ctx, wsURL, client.Options{ClientID: id, Delegation: "D" + fmt.Sprint(i), Name: "N", Role: "drafter", NoReconnect: true,
			OnEvent: func(e client.Event) {
				if e.Type == client.EventAck {
					mu.Lock()
					acked[ackKey{id, e.Seq}] = e.Rev
					if len(acked) == enoughAcks {
						close(enough)
					}
					mu.Unlock()
				}
			}})
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
		doc, err := c.Open(ctx, "art-4")
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			for {
				select {
				case <-stop:
					return
				default:
				}
				n := doc.Len()
				if n > 5 && rng.IntN(3) == 0 {
					doc.Delete(rng.IntN(n-2), 1)
				} else {
					doc.Insert(rng.IntN(n+1), []string{"a", "é", "締", "😭", " "}[rng.IntN(5)])
				}
				if doc.Err() != nil {
					return
				}
				time.Sleep(time.Duration(rng.IntN(500)) * time.Microsecond) // the typing pace: the load, not a wait
			}
		}()
	}
	// Let acks accumulate, then kill -9 in the middle of the load.
	select {
	case <-enough:
	case <-time.After(60 * time.Second):
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		t.Fatalf("only %d acks in 60s\n%s", n, p.out)
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
	close(stop)
	wg.Wait()
	for _, c := range clients {
		c.Close()
	}

	p2 := start(t, bin, data)
	var draft struct {
		Rev  int
		Text string
	}
	p2.getJSON("/api/docs/art-4", &draft)
	var log struct {
		Ops []struct {
			Rev    int
			Op     ot.Op
			Client string
			Seq    uint64
		}
	}
	p2.getJSON("/api/docs/art-4/ops", &log)
	if len(log.Ops) != draft.Rev {
		t.Fatalf("%d ops for rev %d", len(log.Ops), draft.Rev)
	}
	stored := map[ackKey]int{}
	text := initial
	for i, op := range log.Ops {
		if op.Rev != i+1 {
			t.Fatalf("log entry %d has rev %d", i, op.Rev)
		}
		k := ackKey{op.Client, op.Seq}
		if _, dup := stored[k]; dup {
			t.Fatalf("%v twice in the log", k)
		}
		stored[k] = op.Rev
		if text, err = ot.Apply(text, op.Op); err != nil {
			t.Fatalf("replay op %d: %v", op.Rev, err)
		}
	}
	if text != draft.Text {
		t.Fatalf("the log replays to %q, the server says %q", text, draft.Text)
	}
	mu.Lock()
	defer mu.Unlock()
	for k, rev := range acked {
		if got, ok := stored[k]; !ok || got != rev {
			t.Fatalf("acked %v as rev %d, but the restarted server has it at %d (present %v)", k, rev, got, ok)
		}
	}
	t.Logf("%d acked ops before kill -9, %d revisions after restart", len(acked), draft.Rev)

	// Graceful shutdown: SIGTERM ends the process with status 0.
	if err := p2.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p2.done:
		if p2.err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", p2.err, p2.out)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no exit 10s after SIGTERM\n%s", p2.out)
	}
}
