package server

import "testing"

func TestHasLoneSurrogate(t *testing.T) {
	tests := []struct {
		json string
		want bool
	}{
		{`{"text":"plain é 😭"}`, false},
		{`{"text":"\ud83d\ude2d"}`, false},
		{`{"text":"\u00e9\n\"\\"}`, false},
		{`{"text":"\\ud800"}`, false}, // an escaped backslash, then text
		{`{"text":"\ud800"}`, true},
		{`{"text":"\udc00"}`, true},
		{`{"text":"\ud800\u0041"}`, true},
		{`{"text":"x\uD83D"}`, true},
	}
	for _, tt := range tests {
		if got := hasLoneSurrogate([]byte(tt.json)); got != tt.want {
			t.Errorf("hasLoneSurrogate(%s) = %v, want %v", tt.json, got, tt.want)
		}
	}
}
