package main

import (
	"os"
	"syscall"
)

// limitCheckMemory caps the address space of the checking child process:
// a damaged file can make bbolt (or a corrupt length) allocate without
// bound, and a check must fail rather than take the machine's memory. The
// cap leaves room for the file's memory map and a generous heap.
func limitCheckMemory(path string) {
	var size uint64
	if fi, err := os.Stat(path); err == nil {
		size = uint64(fi.Size())
	}
	limit := 2*size + 4<<30
	syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: limit, Max: limit})
}
