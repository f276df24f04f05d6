//go:build unix

package server_test

import "syscall"

// smallReceiveBuffer is a net.Dialer Control that asks for a 4 KiB receive
// buffer, so that a peer that reads nothing stops the sender soon.
func smallReceiveBuffer(_, _ string, c syscall.RawConn) error {
	var err error
	if cerr := c.Control(func(fd uintptr) {
		err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
	}); cerr != nil {
		return cerr
	}
	return err
}
