//go:build !linux

package main

// limitCheckMemory: only Linux caps the checking child's memory.
func limitCheckMemory(string) {}
