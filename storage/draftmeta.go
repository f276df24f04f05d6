package storage

import (
	"fmt"

	"github.com/draftroom/draftroom/dr"
)

// checkPatch refuses a patch that dr.DraftPatch.Check refuses (nothing to
// change, an empty title, one over dr.MaxTitleLen): ErrInvalid, wrapping
// the *dr.Error that says why in words a client reads.
func checkPatch(id string, p dr.DraftPatch) error {
	if err := p.Check(); err != nil {
		return fmt.Errorf("storage: patch draft %s: %w: %w", id, err, ErrInvalid)
	}
	return nil
}

// applyPatch returns d with p applied.
func applyPatch(d dr.Draft, p dr.DraftPatch) dr.Draft {
	if p.Title != nil {
		d.Title = *p.Title
	}
	if p.Archived != nil {
		d.Archived = *p.Archived
	}
	return d
}
