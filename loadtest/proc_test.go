package loadtest

import (
	"errors"
	"os"
	"testing"
	"time"
)

func TestProcSelf(t *testing.T) {
	// Burn a little CPU so that the tick counters move.
	deadline := time.Now().Add(50 * time.Millisecond)
	for x := 0; time.Now().Before(deadline); x++ {
		_ = x * x
	}
	cpu, err := procCPU(os.Getpid())
	if err != nil || cpu <= 0 {
		t.Fatalf("procCPU(self) = %v, %v", cpu, err)
	}
	if self := selfCPU(); self < cpu-time.Second/clockTicks {
		t.Errorf("getrusage %v below /proc %v", self, cpu)
	}
	rss, peak, err := procMem(os.Getpid())
	if err != nil || rss < 1<<20 || peak < rss {
		t.Fatalf("procMem(self) = %d, %d, %v", rss, peak, err)
	}
	if n, err := procDiskWrites(os.Getpid()); err != nil || n < 0 {
		t.Errorf("procDiskWrites(self) = %d, %v", n, err)
	}
	if _, err := procDiskWrites(1 << 30); !errors.Is(err, ErrServerProc) {
		t.Errorf("procDiskWrites of no process: %v, want ErrServerProc", err)
	}
	if _, err := procCPU(1 << 30); !errors.Is(err, ErrServerProc) {
		t.Errorf("procCPU of no process: %v, want ErrServerProc", err)
	}
	if _, _, err := procMem(1 << 30); !errors.Is(err, ErrServerProc) {
		t.Errorf("procMem of no process: %v, want ErrServerProc", err)
	}
}

func TestParseStat(t *testing.T) {
	line := "1234 (my (odd) name) S 1 1234 1234 0 -1 4194560 1000 0 0 0 250 130 0 0 20 0 12 0 500 1000000 2000 18446744073709551615"
	got, err := parseStat([]byte(line))
	if want := 3800 * time.Millisecond; err != nil || got != want {
		t.Fatalf("parseStat = %v, %v; want %v", got, err, want)
	}
	for _, bad := range []string{"", "1234 no parens S 1", "1 (x) S 1 2 3", "1 (x) S 1 2 3 4 5 6 7 8 9 10 x 130"} {
		if _, err := parseStat([]byte(bad)); !errors.Is(err, ErrServerProc) {
			t.Errorf("parseStat(%q): %v, want ErrServerProc", bad, err)
		}
	}
}

func FuzzParseStat(f *testing.F) {
	f.Add([]byte("1 (a) S 1 1 1 0 -1 0 0 0 0 0 5 6 0"))
	f.Add([]byte("1 (a) b) R 1 1 1 0 -1 0 0 0 0 0 99999999999 6 0"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := parseStat(b)
		if err == nil && d < 0 {
			t.Fatalf("negative CPU time %v", d)
		}
		if err != nil && !errors.Is(err, ErrServerProc) {
			t.Fatalf("error %v does not wrap ErrServerProc", err)
		}
	})
}
