//go:build !unix

package server_test

import "syscall"

// smallReceiveBuffer leaves the buffer as it is where there is no
// setsockopt: the test then sends more frames before the peer is dropped.
func smallReceiveBuffer(_, _ string, _ syscall.RawConn) error { return nil }
