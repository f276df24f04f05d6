package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/draftroom/draftroom/auth"
	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/internal/redistest"
	"github.com/draftroom/draftroom/server"
	"github.com/draftroom/draftroom/storage"
)

func runToken(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := tokenCmd(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), err
}

// TestTokenCommandOnBolt: issue, list and revoke on the embedded store;
// the printed secret verifies with the identity asked for.
func TestTokenCommandOnBolt(t *testing.T) {
	dir := t.TempDir()
	secret, info, err := runToken(t, "issue", "-data", dir, "-delegation", "CAN", "-name", "Ana Silva", "-role", "drafter", "-drafts", "art-*, annex-*", "-expires", "720h")
	if err != nil {
		t.Fatalf("issue: %v %s", err, info)
	}
	secret = strings.TrimSpace(secret)
	if !strings.HasPrefix(secret, "drt_") || strings.Contains(secret, "\n") {
		t.Fatalf("stdout %q is not one secret", secret)
	}
	if _, _, err := runToken(t, "issue", "-data", dir, "-delegation", "CAN", "-name", "Ana", "-role", "king"); err == nil {
		t.Fatal("issued a token with a bad role")
	}
	list, _, err := runToken(t, "list", "-data", dir)
	if err != nil || !strings.Contains(list, "Ana Silva") || !strings.Contains(list, "art-*,annex-*") || !strings.Contains(list, "active") {
		t.Fatalf("list: %v\n%s", err, list)
	}

	st, err := storage.OpenBolt(filepath.Join(dir, "draftroom.db"), storage.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := auth.Verify(context.Background(), st, secret, time.Now())
	if err != nil || tok.Delegation != "CAN" || tok.Name != "Ana Silva" || tok.Role != "drafter" || len(tok.Drafts) != 2 || tok.Expires == 0 {
		t.Fatalf("verify: %+v %v", tok, err)
	}
	// While a server holds the file, the command fails fast and says what
	// to do.
	start := time.Now()
	_, _, err = runToken(t, "revoke", tok.ID, "-data", dir)
	if !errors.Is(err, errStoreBusy) || !strings.Contains(err.Error(), "-server") {
		t.Fatalf("revoke on a held store: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("took %v to report a held store", d)
	}
	st.Close()

	if out, _, err := runToken(t, "revoke", "-data", dir, tok.ID); err != nil || !strings.Contains(out, "revoked token "+tok.ID) {
		t.Fatalf("revoke: %v %s", err, out)
	}
	list, _, _ = runToken(t, "list", "-data", dir)
	if !strings.Contains(list, "revoked") {
		t.Fatalf("list after revoke:\n%s", list)
	}
	st, _ = storage.OpenBolt(filepath.Join(dir, "draftroom.db"), storage.BoltOptions{})
	defer st.Close()
	if _, err := auth.Verify(context.Background(), st, secret, time.Now()); !errors.Is(err, auth.ErrRevoked) {
		t.Fatalf("verify after revoke: %v", err)
	}
	entries, _ := st.Audit(context.Background(), 0, 10)
	if len(entries) != 2 || entries[0].Action != "token.issue" || entries[1].Action != "token.revoke" {
		t.Fatalf("audit %+v", entries)
	}
}

// TestTokenCommandThroughServer: with -server the command uses the HTTP
// API as a facilitator.
func TestTokenCommandThroughServer(t *testing.T) {
	st := storage.NewMemory()
	chair, _, err := auth.Issue(context.Background(), st, auth.Request{Delegation: "CHAIR", Name: "Maria", Role: "facilitator"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(server.Config{Auth: server.NewTokenAuth(st, nil)}, st, nil)
	hs := httptest.NewServer(srv.Handler())
	defer func() { hs.Close(); srv.Shutdown(context.Background()) }()

	t.Setenv("DRAFTROOM_TOKEN", chair)
	out, _, err := runToken(t, "issue", "-server", hs.URL, "-delegation", "BRA", "-name", "Rita", "-role", "reviewer")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := auth.Verify(context.Background(), st, strings.TrimSpace(out), time.Now())
	if err != nil || tok.Role != "reviewer" || tok.IssuedBy == "cli" {
		t.Fatalf("issued over HTTP: %+v %v", tok, err)
	}
	if _, _, err := runToken(t, "issue", "-server", hs.URL, "-delegation", "X", "-name", "Y", "-role", "facilitator"); err == nil || !strings.Contains(err.Error(), "forbidden") {
		t.Fatalf("facilitator token over HTTP: %v", err)
	}
	if list, _, err := runToken(t, "list", "-server", hs.URL); err != nil || !strings.Contains(list, "Rita") {
		t.Fatalf("list: %v %s", err, list)
	}
	if _, note, err := runToken(t, "revoke", "-server", hs.URL, tok.ID); err != nil || !strings.Contains(note, "closed") {
		t.Fatalf("revoke: %v %s", err, note)
	}
	t.Setenv("DRAFTROOM_TOKEN", strings.TrimSpace(out))
	if _, _, err := runToken(t, "list", "-server", hs.URL); err == nil || !strings.Contains(err.Error(), "unauthorized") {
		t.Fatalf("list with a revoked reviewer token: %v", err)
	}
}

func TestSecurityFlags(t *testing.T) {
	env := func(k string) string { return map[string]string{"DRAFTROOM_ALLOW_ORIGIN": "https://a.example"}[k] }
	cfg, err := parseConfig([]string{"-allow-origin", "https://b.example, https://c.example", "-pong-wait", "10s", "-max-conns-per-token", "3", "-http-idle-timeout", "5s"}, env, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.Server.AllowOrigins, " "); got != "https://a.example https://b.example https://c.example" {
		t.Errorf("origins %q", got)
	}
	if cfg.Server.PongWait != 10*time.Second || cfg.Server.PingPeriod != 9*time.Second {
		t.Errorf("pong wait %v ping period %v, want 10s 9s", cfg.Server.PongWait, cfg.Server.PingPeriod)
	}
	if cfg.Server.MaxConnsPerToken != 3 || cfg.HTTP.Idle != 5*time.Second || cfg.HTTP.Read != defaultHTTPRead {
		t.Errorf("limits %+v %+v", cfg.Server.MaxConnsPerToken, cfg.HTTP)
	}
	if _, err := parseConfig([]string{"-tls-cert", "c.pem"}, env, io.Discard); err == nil {
		t.Error("-tls-cert without -tls-key accepted")
	}
	if _, err := parseConfig([]string{"-pong-wait", "0s"}, env, io.Discard); err == nil {
		t.Error("-pong-wait 0 accepted")
	}
}

// TestServeTLS: with -tls-cert and -tls-key the server speaks HTTPS.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)

	cfg, err := parseConfig([]string{"-addr", "127.0.0.1:0", "-data", dir, "-tls-cert", certFile, "-tls-key", keyFile}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, pw, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	go io.Copy(io.Discard, pr)
	if err != nil {
		t.Fatal(err)
	}
	base := strings.Fields(line)[3] // "draftroom listening on https://127.0.0.1:PORT/ ..."
	if !strings.HasPrefix(base, "https://") {
		t.Fatalf("listening line %q", line)
	}
	pool := x509.NewCertPool()
	cert, _ := x509.ParseCertificate(der)
	pool.AddCert(cert)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 5 * time.Second}
	resp, err := c.Get(base + "healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil {
		t.Fatalf("healthz over TLS: %d %v", resp.StatusCode, resp.TLS)
	}
	if resp, err := http.Get("http" + strings.TrimPrefix(base, "https") + "healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("plain HTTP served on the TLS port")
		}
	}
	cancel()
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestTokenCommandOnRedis: the same commands on a Redis store, next to a
// running server that sees the tokens at once. It starts its own
// redis-server (the CLI uses the default key prefix, so a shared
// $REDIS_URL is not touched).
func TestTokenCommandOnRedis(t *testing.T) {
	url := redistest.Start(t).URL()
	st, err := storage.OpenRedisURL(url, storage.RedisOptions{}) // redistest.Start waited for PONG
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := server.New(server.Config{Auth: server.NewTokenAuth(st, nil), Fanout: st}, st, nil)
	hs := httptest.NewServer(srv.Handler())
	defer func() { hs.Close(); srv.Shutdown(context.Background()) }()

	out, _, err := runToken(t, "issue", "-redis", url, "-delegation", "EU", "-name", "Jan", "-role", "reviewer")
	if err != nil {
		t.Fatal(err)
	}
	secret := strings.TrimSpace(out)
	me := func() int {
		req, _ := http.NewRequest("GET", hs.URL+"/api/me", nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := me(); code != 200 {
		t.Fatalf("the running server refuses a token issued on its Redis: %d", code)
	}
	list, _, err := runToken(t, "list", "-redis", url, "-json")
	var toks []dr.Token
	if err != nil || json.Unmarshal([]byte(list), &toks) != nil || len(toks) != 1 || toks[0].Hash != "" {
		t.Fatalf("list -json: %v %s", err, list)
	}
	if _, note, err := runToken(t, "revoke", "-redis", url, toks[0].ID); err != nil || !strings.Contains(note, "token-recheck") {
		t.Fatalf("revoke: %v %q", err, note)
	}
	if code := me(); code != 401 {
		t.Fatalf("revoked on Redis, still accepted: %d", code)
	}
}
