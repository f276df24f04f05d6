package provisions

import (
	"errors"
	"fmt"
	"testing"

	"github.com/draftroom/draftroom/dr"
)

func TestRefusalWords(t *testing.T) {
	_, err := ParseStatus("done")
	if !errors.Is(err, ErrStatus) {
		t.Fatalf("ParseStatus: err %v, want ErrStatus", err)
	}
	if got, want := dr.ErrorMessage(err), `status must be open, informal, agreed or set_aside, not "done"`; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
	if got := dr.ErrorCode(err); got != dr.CodeBadRequest {
		t.Errorf("code = %q, want %q", got, dr.CodeBadRequest)
	}
	err = CheckMembers([]string{"b1.0"})
	if !errors.Is(err, ErrPackage) || dr.ErrorMessage(err) != "a package links two or more bracket groups or provisions" {
		t.Errorf("CheckMembers: %v (message %q)", err, dr.ErrorMessage(err))
	}
	wrapped := fmt.Errorf("change: %w", err)
	if dr.ErrorMessage(wrapped) != dr.ErrorMessage(err) || dr.ErrorCode(wrapped) != dr.CodeBadRequest {
		t.Errorf("a wrapped refusal reads %q (%s), want %q", dr.ErrorMessage(wrapped), dr.ErrorCode(wrapped), dr.ErrorMessage(err))
	}
}
