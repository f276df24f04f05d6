package main

import (
	"io"
	"slices"
	"testing"
)

// TestAllowHostFlag: -allow-host and DRAFTROOM_ALLOW_HOST list the names
// open mode answers to, and the host name of -addr is added; an IP address
// in -addr adds nothing (addresses always pass).
func TestAllowHostFlag(t *testing.T) {
	tests := []struct {
		args []string
		env  map[string]string
		want []string
	}{
		{[]string{"-addr", "127.0.0.1:8080"}, nil, nil},
		{[]string{"-addr", "localhost:8080", "-allow-host", "draft.lan,other.lan"}, nil, []string{"draft.lan", "other.lan", "localhost"}},
		{[]string{"-addr", "127.0.0.1:0", "-allow-host", "a.lan", "-allow-host", "b.lan"}, map[string]string{"DRAFTROOM_ALLOW_HOST": "env.lan"}, []string{"env.lan", "a.lan", "b.lan"}},
	}
	for _, tt := range tests {
		cfg, err := parseConfig(tt.args, func(k string) string { return tt.env[k] }, io.Discard)
		if err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		if got := cfg.Server.AllowHosts; !slices.Equal(got, tt.want) {
			t.Errorf("%v: AllowHosts %q, want %q", tt.args, got, tt.want)
		}
	}
}
