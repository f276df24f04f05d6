package storage

import (
	"fmt"
	"strings"

	"github.com/draftroom/draftroom/dr"
)

// MaxTitleLen is the longest title, in bytes, a patch may set.
const MaxTitleLen = 1024

// checkPatch refuses a patch that would leave a draft without a title or
// with one longer than MaxTitleLen (ErrInvalid), or that changes nothing.
func checkPatch(id string, p dr.DraftPatch) error {
	if p.Title == nil && p.Archived == nil {
		return fmt.Errorf("storage: patch draft %s: nothing to change: %w", id, ErrInvalid)
	}
	if p.Title != nil {
		if strings.TrimSpace(*p.Title) == "" {
			return fmt.Errorf("storage: patch draft %s: empty title: %w", id, ErrInvalid)
		}
		if len(*p.Title) > MaxTitleLen {
			return fmt.Errorf("storage: patch draft %s: title longer than %d bytes: %w", id, MaxTitleLen, ErrInvalid)
		}
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
