package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/draftroom/draftroom/loadtest"
	"github.com/draftroom/draftroom/server"
	"github.com/draftroom/draftroom/storage"
)

func TestParseLoadConfig(t *testing.T) {
	var stderr bytes.Buffer
	cfg, profile, err := parseLoadConfig([]string{"-cpuprofile", "/tmp/x.pprof", "-url", "http://127.0.0.1:1, http://127.0.0.1:2", "-mode", "saturate",
		"-writers", "20", "-readers", "100", "-drafts", "3", "-duration", "5s", "-warmup", "0", "-server-pid", "42", "-seed", "9"}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"http://127.0.0.1:1", "http://127.0.0.1:2"}; !reflect.DeepEqual(cfg.URLs, want) {
		t.Errorf("URLs %q, want %q", cfg.URLs, want)
	}
	if cfg.Mode != loadtest.ModeSaturate || cfg.Writers != 20 || cfg.Readers != 100 || cfg.Drafts != 3 ||
		cfg.Duration != 5*time.Second || cfg.ServerPID != 42 || cfg.Seed != 9 || cfg.Rate != 2 {
		t.Errorf("config %+v", cfg)
	}
	if profile != "/tmp/x.pprof" {
		t.Errorf("cpuprofile %q", profile)
	}
	if cfg.Warmup >= 0 {
		t.Errorf("-warmup 0 gave Warmup %v, want negative (none)", cfg.Warmup)
	}
	if _, _, err := parseLoadConfig([]string{"extra"}, &stderr); err == nil {
		t.Error("a stray argument was accepted")
	}
	if _, _, err := parseLoadConfig([]string{"-h"}, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v, want flag.ErrHelp", err)
	}
}

// TestLoadDiverged: a run whose server URLs disagree prints its report and
// fails with loadtest.ErrDiverged (draftroom exits 1); the same run on the
// real node alone passes.
func TestLoadDiverged(t *testing.T) {
	srv := server.New(server.Config{Open: true}, storage.NewMemory(), nil)
	real := httptest.NewServer(srv.Handler())
	defer func() {
		real.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	// A second URL in front of the same server, whose GET /api/docs/{id}
	// answers one code point more than the draft has.
	target, _ := url.Parse(real.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		p := resp.Request.URL.Path
		if resp.Request.Method != http.MethodGet || !strings.HasPrefix(p, "/api/docs/") || strings.Count(p, "/") != 3 {
			return nil
		}
		var v map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
			return err
		}
		resp.Body.Close()
		v["text"] = v["text"].(string) + "§"
		b, _ := json.Marshal(v)
		resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
		resp.Header.Del("Content-Length")
		return nil
	}
	fake := httptest.NewServer(proxy)
	defer fake.Close()

	load := func(urls string) (map[string]any, error) {
		var stdout, stderr bytes.Buffer
		err := loadCommand(context.Background(), []string{"-url", urls, "-writers", "2", "-readers", "1", "-rate", "10",
			"-duration", "300ms", "-warmup", "0", "-quiesce", "500ms", "-text-len", "50"}, &stdout, &stderr)
		var rep map[string]any
		if jerr := json.Unmarshal(stdout.Bytes(), &rep); jerr != nil || strings.Count(stdout.String(), "\n") != 1 {
			t.Fatalf("load -url %s: stdout %q is not one JSON line (%v); err %v, stderr %s", urls, stdout.String(), jerr, err, stderr.String())
		}
		return rep, err
	}
	rep, err := load(real.URL + "," + fake.URL)
	if !errors.Is(err, loadtest.ErrDiverged) {
		t.Errorf("two disagreeing URLs: err %v, want loadtest.ErrDiverged", err)
	}
	nodes, _ := rep["nodes"].([]any)
	if rep["converged"] != false || rep["nodes_agree"] != false || len(nodes) != 2 || nodes[1].(map[string]any)["agree"] != false {
		t.Errorf("two disagreeing URLs: converged %v, nodes_agree %v, nodes %v", rep["converged"], rep["nodes_agree"], rep["nodes"])
	}
	rep, err = load(real.URL)
	if err != nil || rep["converged"] != true || rep["nodes_agree"] != true {
		t.Errorf("the real node alone: err %v, converged %v, nodes_agree %v", err, rep["converged"], rep["nodes_agree"])
	}
}
