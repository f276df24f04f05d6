package main

import (
	"bytes"
	"errors"
	"flag"
	"reflect"
	"testing"
	"time"

	"github.com/draftroom/draftroom/loadtest"
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
