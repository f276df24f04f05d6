package provisions

import (
	"fmt"

	"github.com/draftroom/draftroom/dr"
)

// refuse returns a change the provisions rules refuse: a bad_request
// *dr.Error whose message is the formatted words, for the facilitator
// who asked, and whose cause is kind (ErrStatus, ErrPackage), so that
// errors.Is still classifies it. The server passes it on as it is, as it
// does the bracket rules' refusals.
func refuse(kind error, format string, args ...any) error {
	return &dr.Error{Code: dr.CodeBadRequest, Message: fmt.Sprintf(format, args...), Err: kind}
}
