package provisions

import (
	"errors"
	"fmt"
)

// A Refusal is a change the provisions rules refuse, in words a
// facilitator acts on (Words); it wraps the sentinel that classifies it
// (ErrStatus, ErrPackage). Its Error is the words then the sentinel's
// text.
type Refusal struct {
	Kind  error
	Words string
}

func (e *Refusal) Error() string { return e.Words + ": " + e.Kind.Error() }
func (e *Refusal) Unwrap() error { return e.Kind }

// refuse returns a *Refusal of kind with the formatted words.
func refuse(kind error, format string, args ...any) error {
	return &Refusal{Kind: kind, Words: fmt.Sprintf(format, args...)}
}

// Words returns the words of the Refusal err wraps, else err's text.
func Words(err error) string {
	var r *Refusal
	if errors.As(err, &r) {
		return r.Words
	}
	return err.Error()
}
