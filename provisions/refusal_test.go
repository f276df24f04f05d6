package provisions

import (
	"errors"
	"fmt"
	"testing"
)

func TestRefusalWords(t *testing.T) {
	_, err := ParseStatus("done")
	if !errors.Is(err, ErrStatus) {
		t.Fatalf("ParseStatus: err %v, want ErrStatus", err)
	}
	if got, want := Words(err), `status must be open, informal, agreed or set_aside, not "done"`; got != want {
		t.Errorf("Words = %q, want %q", got, want)
	}
	if got, want := err.Error(), Words(err)+": "+ErrStatus.Error(); got != want {
		t.Errorf("Error = %q, want the words then the sentinel, %q", got, want)
	}
	err = CheckMembers([]string{"b1.0"})
	if !errors.Is(err, ErrPackage) || Words(err) != "a package links two or more bracket groups or provisions" {
		t.Errorf("CheckMembers: %v (words %q)", err, Words(err))
	}
	wrapped := fmt.Errorf("change: %w", err)
	if Words(wrapped) != Words(err) {
		t.Errorf("Words of a wrapped refusal %q, want %q", Words(wrapped), Words(err))
	}
	if other := errors.New("disk full"); Words(other) != "disk full" {
		t.Errorf("Words of another error: %q", Words(other))
	}
}
