package loadtest

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat. It
// is 100 on every Linux architecture Go supports (reading it properly needs
// sysconf, i.e. cgo).
const clockTicks = 100

// selfCPU is the CPU time (user + system) this process has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procCPU is the CPU time (user + system) process pid has used, from
// /proc/PID/stat.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrServerProc, err)
	}
	cpu, err := parseStat(b)
	if err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return cpu, nil
}

// parseStat returns utime + stime from the contents of a /proc/PID/stat
// file; errors wrap ErrServerProc.
func parseStat(b []byte) (time.Duration, error) {
	// The command name (field 2) is in parentheses and may contain spaces
	// or parentheses: the fields we want follow the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("%w: no ')'", ErrServerProc)
	}
	fields := strings.Fields(string(b[i+1:]))
	// fields[0] is field 3 (state); utime is field 14, stime field 15.
	if len(fields) < 13 {
		return 0, fmt.Errorf("%w: %d fields", ErrServerProc, len(fields)+2)
	}
	utime, err1 := strconv.ParseUint(fields[11], 10, 32)
	stime, err2 := strconv.ParseUint(fields[12], 10, 32)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("%w: bad utime %q or stime %q", ErrServerProc, fields[11], fields[12])
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// procMem returns the resident set size and its peak (VmRSS, VmHWM) of
// process pid in bytes.
func procMem(pid int) (rss, peak int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %w", ErrServerProc, err)
	}
	for line := range strings.Lines(string(b)) {
		key, val, ok := strings.Cut(line, ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		f := strings.Fields(val) // "123456 kB"
		if len(f) != 2 || f[1] != "kB" {
			continue
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		if key == "VmRSS" {
			rss = kb << 10
		} else {
			peak = kb << 10
		}
	}
	if rss == 0 {
		return 0, 0, fmt.Errorf("%w: no VmRSS in /proc/%d/status", ErrServerProc, pid)
	}
	return rss, peak, nil
}

// procDiskWrites is the bytes process pid caused to be written to storage
// (write_bytes of /proc/PID/io): fsync'd pages, the cost of durability.
func procDiskWrites(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrServerProc, err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "write_bytes:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				break
			}
			return n, nil
		}
	}
	return 0, fmt.Errorf("%w: no write_bytes in /proc/%d/io", ErrServerProc, pid)
}

// loadAverage is the 1-minute load average from /proc/loadavg (0 if
// unreadable): the benchmarks share the machine, and a figure means little
// without it.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}
