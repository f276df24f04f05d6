package client

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// TestReadAll: readAll reads what io.ReadAll reads, into the buffer it is
// given (what was in it is overwritten), however the reader splits the data,
// and passes read errors on.
func TestReadAll(t *testing.T) {
	t.Parallel()
	data := []byte(strings.Repeat(`{"type":"op","doc":"art-17","op":["締約国 😭"]}`, 97))
	for _, tc := range []struct {
		name string
		r    func() io.Reader
		buf  []byte
	}{
		{"nil buffer", func() io.Reader { return bytes.NewReader(data) }, nil},
		{"one byte at a time", func() io.Reader { return iotest.OneByteReader(bytes.NewReader(data)) }, nil},
		{"half reads", func() io.Reader { return iotest.HalfReader(bytes.NewReader(data)) }, nil},
		{"EOF with the data", func() io.Reader { return iotest.DataErrReader(bytes.NewReader(data)) }, nil},
		{"used buffer", func() io.Reader { return bytes.NewReader(data) }, []byte(strings.Repeat("x", 300))[:0]},
		{"big used buffer", func() io.Reader { return bytes.NewReader(data) }, make([]byte, 0, 2*len(data))},
		{"empty", func() io.Reader { return bytes.NewReader(nil) }, []byte("junk")[:0]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, _ := io.ReadAll(tc.r())
			got, err := readAll(tc.r(), tc.buf)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("got %d bytes (%v), want %d", len(got), err, len(want))
			}
			if cap(tc.buf) >= len(want) && len(want) > 0 && &got[0] != &tc.buf[:1][0] {
				t.Errorf("a buffer big enough was not reused")
			}
		})
	}
	boom := errors.New("boom")
	if _, err := readAll(io.MultiReader(bytes.NewReader(data), iotest.ErrReader(boom)), nil); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
}
