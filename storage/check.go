package storage

import (
	"fmt"

	"github.com/draftroom/draftroom/dr"
)

// CheckCommit checks the shape of a Commit that is meant to take draft id
// from revision base to base+len(c.Ops), without looking at any stored
// state: ops numbered base+1, base+2, ...; snapshots, proposals and
// decisions inside that run and about that draft; no (Principal, Client,
// Seq) twice. It returns an error wrapping ErrInvalid (or ErrDuplicate for
// a repeated submission) and is what every backend runs before it touches
// its data, so that they all reject the same requests the same way.
func CheckCommit(id string, base int, c dr.Commit) error {
	if id == "" {
		return fmt.Errorf("storage: commit: empty draft id: %w", ErrInvalid)
	}
	if base < 0 {
		return fmt.Errorf("storage: commit %s@%d: negative base: %w", id, base, ErrInvalid)
	}
	if len(c.Ops) == 0 {
		return fmt.Errorf("storage: commit %s@%d: no ops: %w", id, base, ErrInvalid)
	}
	head := base + len(c.Ops)
	type submission struct {
		principal, client string
		seq               uint64
	}
	seen := make(map[submission]int, len(c.Ops))
	for i, op := range c.Ops {
		if op.Rev != base+1+i {
			return fmt.Errorf("storage: commit %s@%d: op %d has rev %d, want %d: %w", id, base, i, op.Rev, base+1+i, ErrInvalid)
		}
		k := submission{op.Principal, op.Client, op.Seq}
		if prev, dup := seen[k]; dup {
			return fmt.Errorf("storage: commit %s@%d: ops %d and %d are both %s/%s seq %d: %w", id, base, prev, op.Rev, op.Principal, op.Client, op.Seq, ErrDuplicate)
		}
		seen[k] = op.Rev
	}
	inRun := func(rev int) bool { return rev > base && rev <= head }
	snapRevs := make(map[int]bool, len(c.Snapshots))
	for _, s := range c.Snapshots {
		if !inRun(s.Rev) || snapRevs[s.Rev] {
			return fmt.Errorf("storage: commit %s@%d: snapshot rev %d outside %d..%d or repeated: %w", id, base, s.Rev, base+1, head, ErrInvalid)
		}
		snapRevs[s.Rev] = true
	}
	for _, p := range c.Proposals {
		if p.Draft != id || !inRun(p.Rev) {
			return fmt.Errorf("storage: commit %s@%d: proposal for %s@%d outside this run: %w", id, base, p.Draft, p.Rev, ErrInvalid)
		}
	}
	for _, d := range c.Decisions {
		if d.Draft != id || !inRun(d.Rev) {
			return fmt.Errorf("storage: commit %s@%d: decision for %s@%d outside this run: %w", id, base, d.Draft, d.Rev, ErrInvalid)
		}
	}
	return nil
}
