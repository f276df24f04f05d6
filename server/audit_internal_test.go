package server

import (
	"fmt"
	"testing"
	"time"
)

// TestAuditLimiter: per key, a burst then one entry per period; the entry
// admitted after a refusal says how many were left out; keys are
// independent, and the global bucket bounds them all together.
func TestAuditLimiter(t *testing.T) {
	var l auditLimiter
	t0 := time.Unix(1_800_000_000, 0)
	admitted := 0
	for range 50 {
		if ok, _ := l.admit("refused tok:a", 10*time.Second, 20, t0); ok {
			admitted++
		}
	}
	if admitted != 20 {
		t.Fatalf("admitted %d of 50 at once, want the burst of 20", admitted)
	}
	if ok, _ := l.admit("refused tok:a", 10*time.Second, 20, t0.Add(5*time.Second)); ok {
		t.Fatal("admitted before a period passed")
	}
	ok, suppressed := l.admit("refused tok:a", 10*time.Second, 20, t0.Add(10*time.Second))
	if !ok || suppressed != 31 {
		t.Fatalf("after a period: ok=%v suppressed=%d, want true 31", ok, suppressed)
	}
	if ok, _ := l.admit("refused tok:b", 10*time.Second, 20, t0.Add(10*time.Second)); !ok {
		t.Fatal("another key was limited by the first")
	}
	// Many keys at once: the global bucket (auditAllBurst) holds.
	total := 0
	for i := range 1000 {
		if ok, _ := l.admit(fmt.Sprintf("login.failed ip:10.0.%d.%d", i/256, i%256), 10*time.Second, 20, t0.Add(11*time.Second)); ok {
			total++
		}
	}
	if total > auditAllBurst {
		t.Fatalf("admitted %d entries of 1000 keys at once, want at most %d", total, auditAllBurst)
	}
	// Memory stays bounded however many keys come.
	for i := range 3 * auditMaxKeys {
		l.admit(fmt.Sprintf("refused ip:%d", i), 10*time.Second, 20, t0.Add(time.Hour+time.Duration(i)*time.Millisecond))
	}
	if n := len(l.keys); n > auditMaxKeys {
		t.Fatalf("%d keys kept, want at most %d", n, auditMaxKeys)
	}
}
