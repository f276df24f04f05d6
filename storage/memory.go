package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"sync"

	"github.com/draftroom/draftroom/dr"
)

// Memory is a store that keeps everything in process memory, for tests and
// trials: it follows the same contract as Bolt and Redis (checked by
// storagetest) but nothing survives the process. Every record is copied on
// the way in and on the way out, so neither the caller nor the store can
// change the other's data through a shared slice or map. It is safe for
// concurrent use; one mutex guards everything.
type Memory struct {
	mu     sync.RWMutex
	closed bool
	drafts map[string]*memDraft
	tokens map[string]dr.Token // by id
	hashes map[string]string   // token hash -> id
	audit  []dr.AuditEntry     // audit[i].Seq == i+1
}

type memDraft struct {
	meta      dr.Draft
	ops       []dr.Op       // ops[i].Rev == i+1
	snaps     []dr.Snapshot // sorted by Rev, one per Rev
	seqs      map[seqKey]int
	proposals []dr.Proposal // sorted by Rev, stable
	decisions []dr.Decision // sorted by Rev, stable
	labels    map[string]dr.Label
}

// seqKey identifies a submission for dedupe.
type seqKey struct {
	principal, client string
	seq               uint64
}

// NewMemory returns an empty Memory store.
func NewMemory() *Memory {
	return &Memory{
		drafts: map[string]*memDraft{},
		tokens: map[string]dr.Token{},
		hashes: map[string]string{},
	}
}

// Close makes every later call fail with ErrClosed. A second Close returns
// nil.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}

// read takes the read lock, checks that the store is open and the context
// live, and returns the unlock function.
func (m *Memory) read(ctx context.Context, what string) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("storage: %s: %w", what, err)
	}
	m.mu.RLock()
	if m.closed {
		m.mu.RUnlock()
		return nil, fmt.Errorf("storage: %s: %w", what, ErrClosed)
	}
	return m.mu.RUnlock, nil
}

// write is read's counterpart for the write lock.
func (m *Memory) write(ctx context.Context, what string) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("storage: %s: %w", what, err)
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, fmt.Errorf("storage: %s: %w", what, ErrClosed)
	}
	return m.mu.Unlock, nil
}

// draft returns the draft id; the caller holds the lock.
func (m *Memory) draft(what, id string) (*memDraft, error) {
	d, ok := m.drafts[id]
	if !ok {
		return nil, fmt.Errorf("storage: %s %s: %w", what, id, ErrNotFound)
	}
	return d, nil
}

// CreateDraft stores a new draft at revision 0 with text as snapshot 0. It
// ignores d.Rev and d.Updated (a new draft is at rev 0, updated when
// created). ErrExists if the id is taken, ErrInvalid if it is empty.
func (m *Memory) CreateDraft(ctx context.Context, d dr.Draft, text string) error {
	if d.ID == "" {
		return fmt.Errorf("storage: create draft: empty id: %w", ErrInvalid)
	}
	unlock, err := m.write(ctx, "create draft")
	if err != nil {
		return err
	}
	defer unlock()
	if _, ok := m.drafts[d.ID]; ok {
		return fmt.Errorf("storage: create draft %s: %w", d.ID, ErrExists)
	}
	d.Rev, d.Updated = 0, d.Created
	m.drafts[d.ID] = &memDraft{
		meta:   d,
		snaps:  []dr.Snapshot{{Rev: 0, Text: text}},
		seqs:   map[seqKey]int{},
		labels: map[string]dr.Label{},
	}
	return nil
}

// Draft returns a draft's metadata, ErrNotFound if there is none.
func (m *Memory) Draft(ctx context.Context, id string) (dr.Draft, error) {
	unlock, err := m.read(ctx, "draft")
	if err != nil {
		return dr.Draft{}, err
	}
	defer unlock()
	d, err := m.draft("draft", id)
	if err != nil {
		return dr.Draft{}, err
	}
	return d.meta, nil
}

// Drafts returns every draft's metadata, sorted by id.
func (m *Memory) Drafts(ctx context.Context) ([]dr.Draft, error) {
	unlock, err := m.read(ctx, "drafts")
	if err != nil {
		return nil, err
	}
	defer unlock()
	out := make([]dr.Draft, 0, len(m.drafts))
	for _, d := range m.drafts {
		out = append(out, d.meta)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Commit appends c at base: ErrInvalid or ErrDuplicate if CheckCommit
// refuses it, ErrNotFound for an unknown draft, ErrRevConflict if the head is
// not base, ErrDuplicate if an op's submission is already committed. All of
// it is stored, or (on any error) none of it.
func (m *Memory) Commit(ctx context.Context, id string, base int, c dr.Commit) error {
	if err := CheckCommit(id, base, c); err != nil {
		return err
	}
	unlock, err := m.write(ctx, "commit")
	if err != nil {
		return err
	}
	defer unlock()
	d, err := m.draft("commit", id)
	if err != nil {
		return err
	}
	if d.meta.Rev != base {
		return fmt.Errorf("storage: commit %s@%d (head %d): %w", id, base, d.meta.Rev, ErrRevConflict)
	}
	for _, op := range c.Ops {
		if rev, ok := d.seqs[seqKey{op.Principal, op.Client, op.Seq}]; ok {
			return fmt.Errorf("storage: commit %s@%d: %s/%s seq %d is rev %d: %w", id, base, op.Principal, op.Client, op.Seq, rev, ErrDuplicate)
		}
	}
	// Checked: from here on nothing fails.
	for _, op := range c.Ops {
		d.ops = append(d.ops, copyOp(op))
		d.seqs[seqKey{op.Principal, op.Client, op.Seq}] = op.Rev
	}
	for _, s := range c.Snapshots {
		d.putSnapshot(copySnapshot(s))
	}
	for _, p := range sortedByRev(c.Proposals, func(p dr.Proposal) int { return p.Rev }) {
		d.proposals = append(d.proposals, p)
	}
	for _, dc := range sortedByRev(c.Decisions, func(d dr.Decision) int { return d.Rev }) {
		d.decisions = append(d.decisions, copyDecision(dc))
	}
	last := c.Ops[len(c.Ops)-1]
	d.meta.Rev, d.meta.Updated = last.Rev, last.TS
	return nil
}

// sortedByRev returns a copy of records stably sorted by rev: a commit may
// list its records in any order, reads return them in rev order, and
// records of one rev in the order they were given.
func sortedByRev[T any](records []T, rev func(T) int) []T {
	out := slices.Clone(records)
	slices.SortStableFunc(out, func(a, b T) int { return rev(a) - rev(b) })
	return out
}

// putSnapshot inserts s in rev order, replacing one at the same rev.
func (d *memDraft) putSnapshot(s dr.Snapshot) {
	i, found := slices.BinarySearchFunc(d.snaps, s.Rev, func(x dr.Snapshot, rev int) int { return x.Rev - rev })
	if found {
		d.snaps[i] = s
		return
	}
	d.snaps = slices.Insert(d.snaps, i, s)
}

// Ops returns ops from..to (both included) clipped to the head: none if
// from is past it. ErrInvalid if from < 1.
func (m *Memory) Ops(ctx context.Context, id string, from, to int) ([]dr.Op, error) {
	if from < 1 {
		return nil, fmt.Errorf("storage: ops %s from %d: %w", id, from, ErrInvalid)
	}
	unlock, err := m.read(ctx, "ops")
	if err != nil {
		return nil, err
	}
	defer unlock()
	d, err := m.draft("ops", id)
	if err != nil {
		return nil, err
	}
	to = min(to, len(d.ops))
	if from > to {
		return []dr.Op{}, nil
	}
	out := make([]dr.Op, 0, to-from+1)
	for _, op := range d.ops[from-1 : to] {
		out = append(out, copyOp(op))
	}
	return out, nil
}

// Snapshot returns the latest snapshot with Rev <= rev; ErrNotFound if the
// draft is unknown or rev < 0.
func (m *Memory) Snapshot(ctx context.Context, id string, rev int) (dr.Snapshot, error) {
	unlock, err := m.read(ctx, "snapshot")
	if err != nil {
		return dr.Snapshot{}, err
	}
	defer unlock()
	d, err := m.draft("snapshot", id)
	if err != nil {
		return dr.Snapshot{}, err
	}
	// The index of the first snapshot past rev; the one before it is ours.
	i := sort.Search(len(d.snaps), func(i int) bool { return d.snaps[i].Rev > rev })
	if i == 0 {
		return dr.Snapshot{}, fmt.Errorf("storage: snapshot %s@%d: %w", id, rev, ErrNotFound)
	}
	return copySnapshot(d.snaps[i-1]), nil
}

// PutSnapshot stores s, replacing a snapshot at the same rev. ErrNotFound
// for an unknown draft, ErrInvalid if s.Rev is negative or past the head.
func (m *Memory) PutSnapshot(ctx context.Context, id string, s dr.Snapshot) error {
	unlock, err := m.write(ctx, "put snapshot")
	if err != nil {
		return err
	}
	defer unlock()
	d, err := m.draft("put snapshot", id)
	if err != nil {
		return err
	}
	if s.Rev < 0 || s.Rev > d.meta.Rev {
		return fmt.Errorf("storage: put snapshot %s@%d (head %d): %w", id, s.Rev, d.meta.Rev, ErrInvalid)
	}
	d.putSnapshot(copySnapshot(s))
	return nil
}

// SeqRev returns the revision the submission (principal, client, seq) was
// committed as; ErrNotFound if it was not, or the draft is unknown. Memory
// remembers every submission, so after (see Bolt.SeqRev) is not needed.
func (m *Memory) SeqRev(ctx context.Context, id, principal, client string, seq uint64, after int) (int, error) {
	unlock, err := m.read(ctx, "seq")
	if err != nil {
		return 0, err
	}
	defer unlock()
	d, err := m.draft("seq", id)
	if err != nil {
		return 0, err
	}
	rev, ok := d.seqs[seqKey{principal, client, seq}]
	if !ok {
		return 0, fmt.Errorf("storage: seq %s %s/%s/%d: %w", id, principal, client, seq, ErrNotFound)
	}
	return rev, nil
}

// Proposals returns the draft's bracket proposals in rev order.
func (m *Memory) Proposals(ctx context.Context, id string) ([]dr.Proposal, error) {
	unlock, err := m.read(ctx, "proposals")
	if err != nil {
		return nil, err
	}
	defer unlock()
	d, err := m.draft("proposals", id)
	if err != nil {
		return nil, err
	}
	return slices.Clone(d.proposals), nil
}

// Decisions returns the draft's bracket decisions in rev order.
func (m *Memory) Decisions(ctx context.Context, id string) ([]dr.Decision, error) {
	unlock, err := m.read(ctx, "decisions")
	if err != nil {
		return nil, err
	}
	defer unlock()
	d, err := m.draft("decisions", id)
	if err != nil {
		return nil, err
	}
	out := make([]dr.Decision, len(d.decisions))
	for i, dc := range d.decisions {
		out[i] = copyDecision(dc)
	}
	return out, nil
}

// PutLabel names revision l.Rev of draft l.Draft. ErrNotFound for an
// unknown draft, ErrExists if the draft has a label of that name,
// ErrInvalid for an empty name or a rev outside 0..head.
func (m *Memory) PutLabel(ctx context.Context, l dr.Label) error {
	if l.Name == "" {
		return fmt.Errorf("storage: label %s: empty name: %w", l.Draft, ErrInvalid)
	}
	unlock, err := m.write(ctx, "label")
	if err != nil {
		return err
	}
	defer unlock()
	d, err := m.draft("label", l.Draft)
	if err != nil {
		return err
	}
	if l.Rev < 0 || l.Rev > d.meta.Rev {
		return fmt.Errorf("storage: label %s@%d (head %d): %w", l.Draft, l.Rev, d.meta.Rev, ErrInvalid)
	}
	if _, ok := d.labels[l.Name]; ok {
		return fmt.Errorf("storage: label %s %q: %w", l.Draft, l.Name, ErrExists)
	}
	d.labels[l.Name] = l
	return nil
}

// Labels returns the draft's labels in rev order, labels of one revision
// by name.
func (m *Memory) Labels(ctx context.Context, id string) ([]dr.Label, error) {
	unlock, err := m.read(ctx, "labels")
	if err != nil {
		return nil, err
	}
	defer unlock()
	d, err := m.draft("labels", id)
	if err != nil {
		return nil, err
	}
	out := make([]dr.Label, 0, len(d.labels))
	for _, l := range d.labels {
		out = append(out, l)
	}
	SortLabels(out)
	return out, nil
}

// PutToken stores a new token. ErrExists if its id or its hash is taken,
// ErrInvalid if the id or hash is empty.
func (m *Memory) PutToken(ctx context.Context, t dr.Token) error {
	if t.ID == "" || t.Hash == "" {
		return fmt.Errorf("storage: put token %q: empty id or hash: %w", t.ID, ErrInvalid)
	}
	unlock, err := m.write(ctx, "put token")
	if err != nil {
		return err
	}
	defer unlock()
	if _, ok := m.tokens[t.ID]; ok {
		return fmt.Errorf("storage: put token %s: %w", t.ID, ErrExists)
	}
	if _, ok := m.hashes[t.Hash]; ok {
		return fmt.Errorf("storage: put token %s: hash in use: %w", t.ID, ErrExists)
	}
	m.tokens[t.ID] = copyToken(t)
	m.hashes[t.Hash] = t.ID
	return nil
}

// Token returns the token with that id, ErrNotFound if there is none.
func (m *Memory) Token(ctx context.Context, id string) (dr.Token, error) {
	unlock, err := m.read(ctx, "token")
	if err != nil {
		return dr.Token{}, err
	}
	defer unlock()
	t, ok := m.tokens[id]
	if !ok {
		return dr.Token{}, fmt.Errorf("storage: token %s: %w", id, ErrNotFound)
	}
	return copyToken(t), nil
}

// TokenByHash returns the token whose secret hashes to hash, ErrNotFound
// if there is none.
func (m *Memory) TokenByHash(ctx context.Context, hash string) (dr.Token, error) {
	unlock, err := m.read(ctx, "token by hash")
	if err != nil {
		return dr.Token{}, err
	}
	defer unlock()
	id, ok := m.hashes[hash]
	if !ok {
		return dr.Token{}, fmt.Errorf("storage: token by hash: %w", ErrNotFound)
	}
	return copyToken(m.tokens[id]), nil
}

// Tokens returns every token, sorted by id.
func (m *Memory) Tokens(ctx context.Context) ([]dr.Token, error) {
	unlock, err := m.read(ctx, "tokens")
	if err != nil {
		return nil, err
	}
	defer unlock()
	out := make([]dr.Token, 0, len(m.tokens))
	for _, t := range m.tokens {
		out = append(out, copyToken(t))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// RevokeToken marks the token revoked at time at (Unix ms). Revoking a
// revoked token keeps the first time. ErrNotFound if there is no such token.
func (m *Memory) RevokeToken(ctx context.Context, id string, at int64) error {
	unlock, err := m.write(ctx, "revoke token")
	if err != nil {
		return err
	}
	defer unlock()
	t, ok := m.tokens[id]
	if !ok {
		return fmt.Errorf("storage: revoke token %s: %w", id, ErrNotFound)
	}
	if t.Revoked == 0 {
		t.Revoked = at
		m.tokens[id] = t
	}
	return nil
}

// AppendAudit appends e to the audit log with the next Seq (1, 2, ...),
// ignoring e.Seq, and returns the stored entry.
func (m *Memory) AppendAudit(ctx context.Context, e dr.AuditEntry) (dr.AuditEntry, error) {
	unlock, err := m.write(ctx, "append audit")
	if err != nil {
		return dr.AuditEntry{}, err
	}
	defer unlock()
	e.Seq = int64(len(m.audit) + 1)
	m.audit = append(m.audit, e)
	return e, nil
}

// Audit returns up to limit entries with Seq > afterSeq in Seq order; all
// of them if limit <= 0.
func (m *Memory) Audit(ctx context.Context, afterSeq int64, limit int) ([]dr.AuditEntry, error) {
	unlock, err := m.read(ctx, "audit")
	if err != nil {
		return nil, err
	}
	defer unlock()
	start := int(min(max(afterSeq, 0), int64(len(m.audit))))
	end := len(m.audit)
	if limit > 0 {
		end = min(end, start+limit)
	}
	return slices.Clone(m.audit[start:end]), nil
}

// SortLabels puts labels in the order Labels returns them: by rev, labels
// of one revision by name.
func SortLabels(ls []dr.Label) {
	sort.Slice(ls, func(i, j int) bool {
		if ls[i].Rev != ls[j].Rev {
			return ls[i].Rev < ls[j].Rev
		}
		return ls[i].Name < ls[j].Name
	})
}

// Copies: strings are immutable, so only slices and maps need copying.

func copyOp(op dr.Op) dr.Op {
	op.Op = slices.Clone(op.Op)
	return op
}

func copySnapshot(s dr.Snapshot) dr.Snapshot {
	if s.Meta != nil {
		meta := make(map[string]json.RawMessage, len(s.Meta))
		for k, v := range s.Meta {
			meta[k] = slices.Clone(v)
		}
		s.Meta = meta
	}
	return s
}

func copyDecision(d dr.Decision) dr.Decision {
	d.Alternatives = slices.Clone(d.Alternatives)
	return d
}

func copyToken(t dr.Token) dr.Token {
	t.Drafts = slices.Clone(t.Drafts)
	return t
}

// PatchDraft changes a draft's title or archived flag and returns the
// draft as it now is: ErrInvalid if checkPatch refuses p,
// ErrNotFound for an unknown draft.
func (m *Memory) PatchDraft(ctx context.Context, id string, p dr.DraftPatch) (dr.Draft, error) {
	if err := checkPatch(id, p); err != nil {
		return dr.Draft{}, err
	}
	unlock, err := m.write(ctx, "patch draft")
	if err != nil {
		return dr.Draft{}, err
	}
	defer unlock()
	d, err := m.draft("patch draft", id)
	if err != nil {
		return dr.Draft{}, err
	}
	d.meta = applyPatch(d.meta, p)
	return d.meta, nil
}

// Health returns ErrClosed after Close, else nil: memory always takes
// writes.
func (m *Memory) Health() error {
	unlock, err := m.read(context.Background(), "health")
	if err != nil {
		return err
	}
	unlock()
	return nil
}

// Backup writes nothing: a Memory store holds nothing durable to copy. It
// returns an error wrapping errors.ErrUnsupported (ErrClosed after Close).
func (m *Memory) Backup(ctx context.Context, w io.Writer) (int64, error) {
	unlock, err := m.read(ctx, "backup")
	if err != nil {
		return 0, err
	}
	unlock()
	return 0, fmt.Errorf("storage: backup: the memory store keeps nothing durable to copy: %w", errors.ErrUnsupported)
}
