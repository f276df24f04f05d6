package storage

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"sort"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/draftroom/draftroom/dr"
	"github.com/redis/go-redis/v9"
)

// Redis is the store shared by several server nodes. Everything lives in
// Redis; the store itself keeps no state but the fan-out subscription.
//
// Key layout (P is RedisOptions.Prefix, default "draftroom:"). Every key of
// one draft carries the hash tag {<draft id>}, so a commit touches a single
// Cluster slot and runs as one Lua script; the global keys share the tag
// {@global} ("@" cannot occur in a draft id, so they never meet a draft's):
//
//	P{id}:meta        hash: draft (JSON of Draft without rev/updated), rev, updated
//	P{id}:ops         list of Op JSON; index i holds rev i+1
//	P{id}:snaps       sorted set of snapshot revs (score = member = rev)
//	P{id}:snap        hash: rev -> Snapshot JSON
//	P{id}:seqs        hash: client|seq|principal -> rev (dedupe)
//	P{id}:proposals   list of Proposal JSON in commit (= rev) order
//	P{id}:decisions   list of Decision JSON in commit (= rev) order
//	P{id}:labels      list of Label JSON in insertion order
//	P{id}:labelnames  hash: label name -> rev (uniqueness)
//	P{id}:commit:<n>  string with a short TTL: nonce of a recent Commit call
//	P{id}:events      pub/sub channel (not a key): committed ops, presence
//	P{@global}:drafts    set of draft ids
//	P{@global}:tokens    hash: token id -> Token JSON
//	P{@global}:tokenhash hash: token hash -> token id
//	P{@global}:audit     list of AuditEntry JSON; index i holds seq i+1
//
// The seqs field puts client first: a client id has no "|" and seq is
// digits, so the field is unambiguous whatever the principal contains.
//
// Errors: redis.Nil becomes ErrNotFound; a Redis that cannot be reached
// (refused, reset, timed out, LOADING, MASTERDOWN, CLUSTERDOWN, OOM, ...) gives
// an error wrapping ErrUnavailable; a done context is passed through
// (wrapped, errors.Is works). An ErrUnavailable from Commit means the
// outcome is unknown (the reply may have been lost after the script ran):
// the caller finds out from the log on its next Commit (ErrRevConflict, then
// ErrDuplicate for resent submissions).
//
// Durability is Redis's: see docs/REDIS.md for the appendonly/appendfsync
// settings a deployment needs.
type Redis struct {
	client redis.UniversalClient
	prefix string
	node   string
	closed atomic.Bool

	commitScript, snapshotScript, putSnapshotScript,
	createScript, labelScript, tokenScript, revokeScript *redis.Script
	patchScript *redis.Script

	fan *fanout
}

// RedisOptions configures a Redis store. The zero value is usable.
type RedisOptions struct {
	// Prefix starts every key and channel name; default "draftroom:".
	// Several deployments (or tests) share one Redis by using different
	// prefixes. It must not contain "{" or "}" (they would move the hash tag).
	Prefix string
	// NodeID names this server node in the events it publishes, so that it
	// can recognise (and skip) its own; default a random 16-hex-digit id.
	NodeID string
	// EventBuffer is the capacity of the Events channel; default 4096.
	EventBuffer int
	// PingInterval is how often an idle subscription connection is checked;
	// a connection that does not answer within two intervals is replaced.
	// Default 2s.
	PingInterval time.Duration
	// StartupWait is how long OpenRedisURL waits for a Redis that cannot
	// serve yet (unreachable, or LOADING its data after a restart) before
	// it gives up; 0 tries once. A refusal that waiting cannot cure (a
	// wrong password) fails at once.
	StartupWait time.Duration
	// Logger gets a line for each wait; default slog.Default().
	Logger *slog.Logger
}

// NewRedis returns a Redis store on client, which may be a single server,
// a Sentinel failover client or a Cluster client. The store owns client
// from then on: Close closes it.
func NewRedis(client redis.UniversalClient, opts RedisOptions) *Redis {
	if opts.Prefix == "" {
		opts.Prefix = "draftroom:"
	}
	if opts.NodeID == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		opts.NodeID = hex.EncodeToString(b[:])
	}
	if opts.EventBuffer <= 0 {
		opts.EventBuffer = 4096
	}
	if opts.PingInterval <= 0 {
		opts.PingInterval = 2 * time.Second
	}
	r := &Redis{
		client:            client,
		prefix:            opts.Prefix,
		node:              opts.NodeID,
		commitScript:      redis.NewScript(commitLua),
		snapshotScript:    redis.NewScript(snapshotLua),
		putSnapshotScript: redis.NewScript(putSnapshotLua),
		createScript:      redis.NewScript(createLua),
		labelScript:       redis.NewScript(labelLua),
		tokenScript:       redis.NewScript(tokenLua),
		revokeScript:      redis.NewScript(revokeLua),
		patchScript:       redis.NewScript(patchDraftLua),
	}
	r.fan = newFanout(r, opts)
	return r
}

// OpenRedisURL connects to the Redis at url (redis://, rediss:// or
// unix://, as redis.ParseURL reads them) and returns a store on it. Dial,
// read and write timeouts default to 2s unless the URL sets them, and a
// dial is tried twice, so that calls fail with ErrUnavailable within about
// a second when Redis is down (go-redis still retries a failed command 3
// times: max_retries in the URL; a retried Commit is safe, see Commit). The
// connection is checked with a PING; a failure wraps ErrUnavailable.
func OpenRedisURL(url string, opts RedisOptions) (*Redis, error) {
	o, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("storage: redis url: %w: %w", ErrInvalid, err)
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = 2 * time.Second
	}
	if o.ReadTimeout == 0 {
		o.ReadTimeout = 2 * time.Second
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = 2 * time.Second
	}
	if o.DialerRetries == 0 {
		// go-redis dials 5 times per attempt and retries a command 3 times:
		// about 2s before a call to a dead Redis fails. 2 dials per attempt
		// still ride out a blip, and bound that to about 1s.
		o.DialerRetries = 2
	}
	r := NewRedis(redis.NewClient(o), opts)
	if err := r.waitReady(opts.StartupWait, cmp.Or(opts.Logger, slog.Default())); err != nil {
		_ = r.client.Close()
		return nil, err
	}
	return r, nil
}

// waitReady pings Redis until it answers, for up to wait: a node started
// together with its Redis finds it unreachable for a moment, then
// answering LOADING while it reads its append-only file. It waits with
// backoff (100ms doubling to 2s) and logs each wait; errors other than
// unavailability end it at once.
func (r *Redis) waitReady(wait time.Duration, log *slog.Logger) error {
	start := time.Now()
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := r.fail(ctx, "ping", r.client.Ping(ctx).Err())
		cancel()
		if err == nil {
			if attempt > 1 {
				log.Info("redis is ready", "after", time.Since(start).Round(time.Millisecond), "attempts", attempt)
			}
			return nil
		}
		if !errors.Is(err, ErrUnavailable) {
			return err
		}
		left := wait - time.Since(start)
		if left <= 0 {
			if wait > 0 {
				return fmt.Errorf("storage: redis is not ready after waiting %s (%d attempts; raise -redis-wait to wait longer): %w", wait, attempt, err)
			}
			return err
		}
		pause := min(backoff, left)
		log.Warn("redis is not ready (unreachable, or loading its data); waiting", "attempt", attempt, "retry_in", pause, "gives_up_in", left.Round(100*time.Millisecond), "err", err)
		time.Sleep(pause)
		backoff = min(2*backoff, 2*time.Second)
	}
}

// NodeID returns the id this store puts in the events it publishes.
func (r *Redis) NodeID() string { return r.node }

func (r *Redis) draftKey(id, suffix string) string {
	return r.prefix + "{" + id + "}:" + suffix
}

func (r *Redis) globalKey(suffix string) string {
	return r.prefix + "{@global}:" + suffix
}

func (r *Redis) channel(id string) string { return r.draftKey(id, "events") }

func seqField(principal, client string, seq uint64) string {
	return client + "|" + strconv.FormatUint(seq, 10) + "|" + principal
}

// fail turns a go-redis error into a storage error; see the Redis doc.
func (r *Redis) fail(ctx context.Context, what string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, redis.Nil):
		return fmt.Errorf("storage: %s: %w", what, ErrNotFound)
	case errors.Is(err, redis.ErrClosed):
		if r.closed.Load() {
			return fmt.Errorf("storage: %s: %w", what, ErrClosed)
		}
		return fmt.Errorf("storage: %s: %w: %w", what, ErrUnavailable, err)
	case unavailable(err):
		if ctx.Err() != nil {
			// Both are true: the caller gave up, and Redis did not answer.
			return fmt.Errorf("storage: %s: %w: %w", what, ErrUnavailable, ctx.Err())
		}
		return fmt.Errorf("storage: %s: %w: %w", what, ErrUnavailable, err)
	case ctx.Err() != nil:
		return fmt.Errorf("storage: %s: %w", what, ctx.Err())
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("storage: %s: %w", what, err)
	default:
		return fmt.Errorf("storage: redis %s: %w", what, err)
	}
}

// unavailable reports whether err means Redis could not be reached or
// cannot serve right now, as opposed to a request Redis refused.
func unavailable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		// go-redis reports a dial cut short by the context as a net.Error.
		var ne net.Error
		return errors.As(err, &ne) && !errors.Is(err, context.Canceled)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, redis.ErrPoolTimeout) || errors.Is(err, redis.ErrPoolExhausted) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	return redis.IsLoadingError(err) || redis.IsClusterDownError(err) ||
		redis.IsTryAgainError(err) || redis.IsMasterDownError(err) ||
		redis.IsReadOnlyError(err) || redis.IsMaxClientsError(err) ||
		redis.HasErrorPrefix(err, "BUSY") || redis.IsNoReplicasError(err) ||
		redis.IsOOMError(err) // full under maxmemory-policy noeviction: nothing written
}

func (r *Redis) check(what string) error {
	if r.closed.Load() {
		return fmt.Errorf("storage: %s: %w", what, ErrClosed)
	}
	return nil
}

// Script results: the first element of the reply.
const (
	luaOK        = 0
	luaNotFound  = 1
	luaConflict  = 2
	luaExists    = 3
	luaDuplicate = 4
	luaAhead     = 5
)

// scriptErr turns a script's reply code into the store's error: nil for
// luaOK, else the sentinel the code stands for, wrapped with what and, where
// it says something, n (the head revision, or the revision a duplicate
// submission was committed as).
func scriptErr(what string, code, n int64) error {
	switch code {
	case luaOK:
		return nil
	case luaNotFound:
		return fmt.Errorf("storage: %s: %w", what, ErrNotFound)
	case luaConflict:
		return fmt.Errorf("storage: %s: head is %d: %w", what, n, ErrRevConflict)
	case luaExists:
		return fmt.Errorf("storage: %s: %w", what, ErrExists)
	case luaDuplicate:
		return fmt.Errorf("storage: %s: a submission is already committed as rev %d: %w", what, n, ErrDuplicate)
	case luaAhead:
		return fmt.Errorf("storage: %s: head is %d: %w", what, n, ErrInvalid)
	}
	return fmt.Errorf("storage: redis %s: script replied %d", what, code)
}

// runScript runs s and decodes its {code, n} reply.
func (r *Redis) runScript(ctx context.Context, what string, s *redis.Script, keys []string, args ...any) (code, n int64, err error) {
	v, err := s.Run(ctx, r.client, keys, args...).Int64Slice()
	if err != nil {
		return 0, 0, r.fail(ctx, what, err)
	}
	if len(v) != 2 {
		return 0, 0, fmt.Errorf("storage: redis %s: script replied %v", what, v)
	}
	return v[0], v[1], nil
}

// createLua: KEYS meta, snaps, snap; ARGV draft JSON, updated, snapshot JSON.
const createLua = `
if redis.call('EXISTS', KEYS[1]) == 1 then return {3, 0} end
redis.call('HSET', KEYS[1], 'draft', ARGV[1], 'rev', 0, 'updated', ARGV[2])
redis.call('ZADD', KEYS[2], 0, '0')
redis.call('HSET', KEYS[3], '0', ARGV[3])
return {0, 0}
`

// CreateDraft stores d at revision 0 with text as snapshot 0; ErrExists if
// the id is taken. The draft is created by one script in its own slot and
// then added to the global index; a CreateDraft repeated after a failure
// between the two repairs the index (and reports ErrExists).
func (r *Redis) CreateDraft(ctx context.Context, d dr.Draft, text string) error {
	if err := r.check("create draft"); err != nil {
		return err
	}
	if d.ID == "" {
		return fmt.Errorf("storage: create draft: empty id: %w", ErrInvalid)
	}
	// A new draft is at rev 0, last updated when created, whatever d says.
	d.Rev, d.Updated = 0, d.Created
	dj, err := json.Marshal(draftRecord{ID: d.ID, Title: d.Title, Created: d.Created, By: d.By})
	if err != nil {
		return fmt.Errorf("storage: create draft %s: %w", d.ID, err)
	}
	sj, err := json.Marshal(dr.Snapshot{Rev: 0, Text: text})
	if err != nil {
		return fmt.Errorf("storage: create draft %s: %w", d.ID, err)
	}
	code, _, err := r.runScript(ctx, "create draft "+d.ID, r.createScript,
		[]string{r.draftKey(d.ID, "meta"), r.draftKey(d.ID, "snaps"), r.draftKey(d.ID, "snap")},
		dj, d.Updated, sj)
	if err != nil {
		return err
	}
	if err := r.client.SAdd(ctx, r.globalKey("drafts"), d.ID).Err(); err != nil {
		return r.fail(ctx, "create draft "+d.ID+": index", err)
	}
	if code == luaExists {
		return fmt.Errorf("storage: create draft %s: %w", d.ID, ErrExists)
	}
	return nil
}

// draftRecord is the part of a Draft that never changes after creation.
type draftRecord struct {
	ID      string    `json:"id"`
	Title   string    `json:"title"`
	Created int64     `json:"created"`
	By      dr.Author `json:"by"`
}

// decodeDraft reads the meta hash fields metaFields asks for. The title
// and archived fields are written by PatchDraft only: without them the
// title is the one the draft was created with, and it is not archived.
func decodeDraft(id string, v []any) (dr.Draft, error) {
	if len(v) != len(metaFields) || v[0] == nil {
		return dr.Draft{}, fmt.Errorf("storage: draft %s: %w", id, ErrNotFound)
	}
	var rec draftRecord
	dj, _ := v[0].(string)
	if err := json.Unmarshal([]byte(dj), &rec); err != nil {
		return dr.Draft{}, fmt.Errorf("storage: draft %s: decode: %w", id, err)
	}
	rs, _ := v[1].(string)
	us, _ := v[2].(string)
	rev, err1 := strconv.Atoi(rs)
	upd, err2 := strconv.ParseInt(us, 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return dr.Draft{}, fmt.Errorf("storage: draft %s: decode: %w", id, err)
	}
	d := dr.Draft{ID: rec.ID, Title: rec.Title, Created: rec.Created, Updated: upd, Rev: rev, By: rec.By}
	if t, ok := v[3].(string); ok {
		d.Title = t
	}
	d.Archived = v[4] == "1"
	return d, nil
}

// metaFields are the fields of a draft's meta hash that make its Draft.
var metaFields = []string{"draft", "rev", "updated", "title", "archived"}

// Draft returns the draft's metadata at its head; ErrNotFound.
func (r *Redis) Draft(ctx context.Context, id string) (dr.Draft, error) {
	if err := r.check("draft"); err != nil {
		return dr.Draft{}, err
	}
	v, err := r.client.HMGet(ctx, r.draftKey(id, "meta"), metaFields...).Result()
	if err != nil {
		return dr.Draft{}, r.fail(ctx, "draft "+id, err)
	}
	return decodeDraft(id, v)
}

// Drafts returns every draft, sorted by id. Ids in the index whose draft
// has no metadata (a CreateDraft that failed half way) are skipped.
func (r *Redis) Drafts(ctx context.Context) ([]dr.Draft, error) {
	if err := r.check("drafts"); err != nil {
		return nil, err
	}
	ids, err := r.client.SMembers(ctx, r.globalKey("drafts")).Result()
	if err != nil {
		return nil, r.fail(ctx, "drafts", err)
	}
	sort.Strings(ids)
	cmds := make([]*redis.SliceCmd, len(ids))
	_, err = r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HMGet(ctx, r.draftKey(id, "meta"), metaFields...)
		}
		return nil
	})
	if err != nil {
		return nil, r.fail(ctx, "drafts", err)
	}
	out := make([]dr.Draft, 0, len(ids))
	for i, id := range ids {
		d, err := decodeDraft(id, cmds[i].Val())
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// commitLua appends a run of ops atomically.
//
// KEYS: 1 meta, 2 ops, 3 seqs, 4 snaps, 5 snap, 6 proposals, 7 decisions,
// 8 commit nonce key.
// ARGV: 1 base, 2 updated, 3 nops, 4 nsnaps, 5 nprops, 6 ndecs,
// 7 channel, 8 message prefix, then nops op JSONs, nops seq fields,
// nsnaps (rev, JSON) pairs, nprops JSONs, ndecs JSONs.
//
// Reply {code, n}: {0, head} committed (or already committed by an earlier
// attempt of the same call, recognised by its nonce); {1, 0} no such draft;
// {2, head} head != base; {4, rev} a submission is already committed at rev.
const commitLua = `
local head = redis.call('HGET', KEYS[1], 'rev')
if not head then return {1, 0} end
head = tonumber(head)
local base = tonumber(ARGV[1])
local n = tonumber(ARGV[3])
if head ~= base then
	if redis.call('EXISTS', KEYS[8]) == 1 then return {0, head} end
	return {2, head}
end
local o = 9
local f = o + n
-- Few redis.call invocations, each with many arguments, in chunks that
-- stay below Lua's unpack limit.
local chunk = 1000
for k = 0, n - 1, chunk do
	local revs = redis.call('HMGET', KEYS[3], unpack(ARGV, f + k, f + math.min(k + chunk, n) - 1))
	for _, rev in ipairs(revs) do
		if rev then return {4, tonumber(rev)} end
	end
end
for k = 0, n - 1, chunk do
	redis.call('RPUSH', KEYS[2], unpack(ARGV, o + k, o + math.min(k + chunk, n) - 1))
end
for k = 0, n - 1, chunk do
	local pairs = {}
	for j = k, math.min(k + chunk, n) - 1 do
		pairs[#pairs + 1] = ARGV[f + j]
		pairs[#pairs + 1] = base + 1 + j
	end
	redis.call('HSET', KEYS[3], unpack(pairs))
end
local i = f + n
for k = 1, tonumber(ARGV[4]) do
	redis.call('ZADD', KEYS[4], ARGV[i], ARGV[i])
	redis.call('HSET', KEYS[5], ARGV[i], ARGV[i + 1])
	i = i + 2
end
for k = 1, tonumber(ARGV[5]) do
	redis.call('RPUSH', KEYS[6], ARGV[i])
	i = i + 1
end
for k = 1, tonumber(ARGV[6]) do
	redis.call('RPUSH', KEYS[7], ARGV[i])
	i = i + 1
end
redis.call('HSET', KEYS[1], 'rev', base + n, 'updated', ARGV[2])
redis.call('SET', KEYS[8], '1', 'PX', 60000)
redis.call('PUBLISH', ARGV[7], ARGV[8] .. table.concat(ARGV, ',', o, o + n - 1) .. ']}')
return {0, base + n}
`

// Commit appends c.Ops as revisions base+1.. with everything in c, in one
// Lua script: all of it or nothing. It returns ErrNotFound for an unknown
// draft, ErrRevConflict (with the head in the message) if the head is not
// base, ErrDuplicate if a submission is already committed, ErrInvalid for
// a malformed Commit (CheckCommit). With the same script it publishes the
// ops on the draft's channel (see Events).
//
// Each call carries a random nonce kept for a minute, so that a retry of
// the script by go-redis after a lost reply is recognised as this call's
// own success instead of a conflict.
func (r *Redis) Commit(ctx context.Context, id string, base int, c dr.Commit) error {
	if err := r.check("commit"); err != nil {
		return err
	}
	var nonce [12]byte
	_, _ = rand.Read(nonce[:])
	keys, args, err := r.commitArgs(id, base, c, hex.EncodeToString(nonce[:]))
	if err != nil {
		return err
	}
	what := fmt.Sprintf("commit %s@%d", id, base)
	code, head, err := r.runScript(ctx, what, r.commitScript, keys, args...)
	if err != nil {
		return err
	}
	return scriptErr(what, code, head)
}

// commitArgs checks c and builds commitLua's keys and arguments.
func (r *Redis) commitArgs(id string, base int, c dr.Commit, nonce string) (keys []string, args []any, err error) {
	if err := CheckCommit(id, base, c); err != nil {
		return nil, nil, err
	}
	// Records come out in rev order, those of one rev in the order given.
	props := slices.Clone(c.Proposals)
	sort.SliceStable(props, func(i, j int) bool { return props[i].Rev < props[j].Rev })
	decs := slices.Clone(c.Decisions)
	sort.SliceStable(decs, func(i, j int) bool { return decs[i].Rev < decs[j].Rev })
	n := len(c.Ops)
	args = make([]any, 0, 8+2*n+2*len(c.Snapshots)+len(c.Proposals)+len(c.Decisions))
	args = append(args, base, c.Ops[n-1].TS, n, len(c.Snapshots), len(c.Proposals), len(c.Decisions),
		r.channel(id), r.fan.opsPrefix)
	for _, op := range c.Ops {
		b, err := json.Marshal(op)
		if err != nil {
			return nil, nil, fmt.Errorf("storage: commit %s@%d: op %d: %w: %w", id, base, op.Rev, ErrInvalid, err)
		}
		args = append(args, b)
	}
	for _, op := range c.Ops {
		args = append(args, seqField(op.Principal, op.Client, op.Seq))
	}
	for _, s := range c.Snapshots {
		b, err := json.Marshal(s)
		if err != nil {
			return nil, nil, fmt.Errorf("storage: commit %s@%d: snapshot %d: %w: %w", id, base, s.Rev, ErrInvalid, err)
		}
		args = append(args, s.Rev, b)
	}
	for _, p := range props {
		b, err := json.Marshal(p)
		if err != nil {
			return nil, nil, fmt.Errorf("storage: commit %s@%d: proposal: %w: %w", id, base, ErrInvalid, err)
		}
		args = append(args, b)
	}
	for _, d := range decs {
		b, err := json.Marshal(d)
		if err != nil {
			return nil, nil, fmt.Errorf("storage: commit %s@%d: decision: %w: %w", id, base, ErrInvalid, err)
		}
		args = append(args, b)
	}
	keys = []string{
		r.draftKey(id, "meta"), r.draftKey(id, "ops"), r.draftKey(id, "seqs"),
		r.draftKey(id, "snaps"), r.draftKey(id, "snap"), r.draftKey(id, "proposals"),
		r.draftKey(id, "decisions"), r.draftKey(id, "commit:"+nonce),
	}
	return keys, args, nil
}

// Ops returns the committed ops from..to (inclusive), clipped to the head;
// empty if from is past the head. ErrInvalid if from < 1, ErrNotFound for
// an unknown draft.
func (r *Redis) Ops(ctx context.Context, id string, from, to int) ([]dr.Op, error) {
	if err := r.check("ops"); err != nil {
		return nil, err
	}
	what := fmt.Sprintf("ops %s %d..%d", id, from, to)
	if from < 1 {
		return nil, fmt.Errorf("storage: %s: %w", what, ErrInvalid)
	}
	if to < from {
		return []dr.Op{}, r.mustExist(ctx, what, id)
	}
	raw, err := r.client.LRange(ctx, r.draftKey(id, "ops"), int64(from-1), int64(to-1)).Result()
	if err != nil {
		return nil, r.fail(ctx, what, err)
	}
	if len(raw) == 0 {
		return []dr.Op{}, r.mustExist(ctx, what, id)
	}
	return decodeList[dr.Op](what, raw)
}

// mustExist returns ErrNotFound unless the draft exists. Drafts are never
// deleted, so a check after a read is as good as one before.
func (r *Redis) mustExist(ctx context.Context, what, id string) error {
	n, err := r.client.Exists(ctx, r.draftKey(id, "meta")).Result()
	if err != nil {
		return r.fail(ctx, what, err)
	}
	if n == 0 {
		return fmt.Errorf("storage: %s: draft %s: %w", what, id, ErrNotFound)
	}
	return nil
}

func decodeList[T any](what string, raw []string) ([]T, error) {
	out := make([]T, len(raw))
	for i, s := range raw {
		if err := json.Unmarshal([]byte(s), &out[i]); err != nil {
			return nil, fmt.Errorf("storage: %s: decode item %d: %w", what, i, err)
		}
	}
	return out, nil
}

// snapshotLua: KEYS meta, snaps, snap; ARGV rev. The latest snapshot with
// rev <= ARGV[1], or nil.
const snapshotLua = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local r = redis.call('ZREVRANGEBYSCORE', KEYS[2], ARGV[1], '-inf', 'LIMIT', 0, 1)
if #r == 0 then return false end
return redis.call('HGET', KEYS[3], r[1])
`

// Snapshot returns the latest snapshot with Rev <= rev; ErrNotFound for an
// unknown draft or a rev below 0.
func (r *Redis) Snapshot(ctx context.Context, id string, rev int) (dr.Snapshot, error) {
	if err := r.check("snapshot"); err != nil {
		return dr.Snapshot{}, err
	}
	what := fmt.Sprintf("snapshot %s@%d", id, rev)
	s, err := r.snapshotScript.Run(ctx, r.client,
		[]string{r.draftKey(id, "meta"), r.draftKey(id, "snaps"), r.draftKey(id, "snap")}, rev).Text()
	if err != nil {
		return dr.Snapshot{}, r.fail(ctx, what, err)
	}
	var snap dr.Snapshot
	if err := json.Unmarshal([]byte(s), &snap); err != nil {
		return dr.Snapshot{}, fmt.Errorf("storage: %s: decode: %w", what, err)
	}
	return snap, nil
}

// putSnapshotLua: KEYS meta, snaps, snap; ARGV rev, JSON.
const putSnapshotLua = `
local head = redis.call('HGET', KEYS[1], 'rev')
if not head then return {1, 0} end
if tonumber(ARGV[1]) > tonumber(head) then return {5, tonumber(head)} end
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
return {0, 0}
`

// PutSnapshot stores s (overwriting a snapshot at the same rev); ErrNotFound
// for an unknown draft, ErrInvalid if s.Rev is negative or past the head.
func (r *Redis) PutSnapshot(ctx context.Context, id string, s dr.Snapshot) error {
	if err := r.check("put snapshot"); err != nil {
		return err
	}
	what := fmt.Sprintf("put snapshot %s@%d", id, s.Rev)
	if s.Rev < 0 {
		return fmt.Errorf("storage: %s: %w", what, ErrInvalid)
	}
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("storage: %s: %w: %w", what, ErrInvalid, err)
	}
	code, head, err := r.runScript(ctx, what, r.putSnapshotScript,
		[]string{r.draftKey(id, "meta"), r.draftKey(id, "snaps"), r.draftKey(id, "snap")}, s.Rev, b)
	if err != nil {
		return err
	}
	return scriptErr(what, code, head)
}

// SeqRev returns the revision at which (principal, client, seq) was
// committed on draft id; ErrNotFound if it was not (or no such draft).
// The seqs hash holds every submission (it is what makes Commit's
// duplicate check exact between nodes), so after (see Bolt.SeqRev) is not
// needed.
func (r *Redis) SeqRev(ctx context.Context, id, principal, client string, seq uint64, after int) (int, error) {
	if err := r.check("seq rev"); err != nil {
		return 0, err
	}
	what := fmt.Sprintf("seq rev %s %s/%s#%d", id, principal, client, seq)
	rev, err := r.client.HGet(ctx, r.draftKey(id, "seqs"), seqField(principal, client, seq)).Int()
	if err != nil {
		return 0, r.fail(ctx, what, err)
	}
	return rev, nil
}

// list reads a whole per-draft list; ErrNotFound if the draft does not exist.
func listOf[T any](ctx context.Context, r *Redis, what, id, suffix string) ([]T, error) {
	if err := r.check(what); err != nil {
		return nil, err
	}
	what += " " + id
	raw, err := r.client.LRange(ctx, r.draftKey(id, suffix), 0, -1).Result()
	if err != nil {
		return nil, r.fail(ctx, what, err)
	}
	if len(raw) == 0 {
		return []T{}, r.mustExist(ctx, what, id)
	}
	return decodeList[T](what, raw)
}

// Proposals returns the draft's bracket proposals in rev order.
func (r *Redis) Proposals(ctx context.Context, id string) ([]dr.Proposal, error) {
	return listOf[dr.Proposal](ctx, r, "proposals", id, "proposals")
}

// Decisions returns the draft's bracket decisions in rev order.
func (r *Redis) Decisions(ctx context.Context, id string) ([]dr.Decision, error) {
	return listOf[dr.Decision](ctx, r, "decisions", id, "decisions")
}

// labelLua: KEYS meta, labelnames, labels; ARGV name, rev, JSON.
const labelLua = `
local head = redis.call('HGET', KEYS[1], 'rev')
if not head then return {1, 0} end
if tonumber(ARGV[2]) > tonumber(head) then return {5, tonumber(head)} end
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then return {3, 0} end
redis.call('RPUSH', KEYS[3], ARGV[3])
return {0, 0}
`

// PutLabel stores l; ErrExists if the draft already has a label named
// l.Name, ErrNotFound for an unknown draft, ErrInvalid if l.Rev is
// negative or past the head.
func (r *Redis) PutLabel(ctx context.Context, l dr.Label) error {
	if err := r.check("put label"); err != nil {
		return err
	}
	what := fmt.Sprintf("put label %s %q@%d", l.Draft, l.Name, l.Rev)
	if l.Draft == "" || l.Name == "" || l.Rev < 0 {
		return fmt.Errorf("storage: %s: %w", what, ErrInvalid)
	}
	b, err := json.Marshal(l)
	if err != nil {
		return fmt.Errorf("storage: %s: %w", what, err)
	}
	code, head, err := r.runScript(ctx, what, r.labelScript,
		[]string{r.draftKey(l.Draft, "meta"), r.draftKey(l.Draft, "labelnames"), r.draftKey(l.Draft, "labels")},
		l.Name, l.Rev, b)
	if err != nil {
		return err
	}
	return scriptErr(what, code, head)
}

// Labels returns the draft's labels in rev order, those on one revision
// by name.
func (r *Redis) Labels(ctx context.Context, id string) ([]dr.Label, error) {
	ls, err := listOf[dr.Label](ctx, r, "labels", id, "labels")
	if err != nil {
		return nil, err
	}
	sort.SliceStable(ls, func(i, j int) bool {
		if ls[i].Rev != ls[j].Rev {
			return ls[i].Rev < ls[j].Rev
		}
		return ls[i].Name < ls[j].Name
	})
	return ls, nil
}

// tokenLua: KEYS tokens, tokenhash; ARGV id, hash, JSON.
const tokenLua = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return {3, 0} end
if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then return {3, 1} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
return {0, 0}
`

// PutToken stores t; ErrExists if its id (or its hash) is already stored.
func (r *Redis) PutToken(ctx context.Context, t dr.Token) error {
	if err := r.check("put token"); err != nil {
		return err
	}
	what := "put token " + t.ID
	if t.ID == "" || t.Hash == "" {
		return fmt.Errorf("storage: %s: empty id or hash: %w", what, ErrInvalid)
	}
	b, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("storage: %s: %w", what, err)
	}
	code, n, err := r.runScript(ctx, what, r.tokenScript,
		[]string{r.globalKey("tokens"), r.globalKey("tokenhash")}, t.ID, t.Hash, b)
	if err != nil {
		return err
	}
	return scriptErr(what, code, n)
}

// Token returns the token with that id; ErrNotFound.
func (r *Redis) Token(ctx context.Context, id string) (dr.Token, error) {
	if err := r.check("token"); err != nil {
		return dr.Token{}, err
	}
	s, err := r.client.HGet(ctx, r.globalKey("tokens"), id).Result()
	if err != nil {
		return dr.Token{}, r.fail(ctx, "token "+id, err)
	}
	var t dr.Token
	if err := json.Unmarshal([]byte(s), &t); err != nil {
		return dr.Token{}, fmt.Errorf("storage: token %s: decode: %w", id, err)
	}
	return t, nil
}

// TokenByHash returns the token whose secret hashes to hash; ErrNotFound.
func (r *Redis) TokenByHash(ctx context.Context, hash string) (dr.Token, error) {
	if err := r.check("token by hash"); err != nil {
		return dr.Token{}, err
	}
	id, err := r.client.HGet(ctx, r.globalKey("tokenhash"), hash).Result()
	if err != nil {
		return dr.Token{}, r.fail(ctx, "token by hash", err)
	}
	return r.Token(ctx, id)
}

// Tokens returns every token, sorted by id.
func (r *Redis) Tokens(ctx context.Context) ([]dr.Token, error) {
	if err := r.check("tokens"); err != nil {
		return nil, err
	}
	m, err := r.client.HGetAll(ctx, r.globalKey("tokens")).Result()
	if err != nil {
		return nil, r.fail(ctx, "tokens", err)
	}
	out := make([]dr.Token, 0, len(m))
	for id, s := range m {
		var t dr.Token
		if err := json.Unmarshal([]byte(s), &t); err != nil {
			return nil, fmt.Errorf("storage: tokens: decode %s: %w", id, err)
		}
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// revokeLua: KEYS tokens; ARGV id, old JSON, new JSON. Compare and set.
const revokeLua = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return {1, 0} end
if cur ~= ARGV[2] then return {2, 0} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return {0, 0}
`

// RevokeToken marks the token revoked at Unix ms at; ErrNotFound. A token
// already revoked keeps its first revocation time.
func (r *Redis) RevokeToken(ctx context.Context, id string, at int64) error {
	what := "revoke token " + id
	// Read, change in Go, write back only if nobody changed it meanwhile:
	// JSON is decoded in Go only, never in Lua.
	for {
		if err := r.check(what); err != nil {
			return err
		}
		old, err := r.client.HGet(ctx, r.globalKey("tokens"), id).Result()
		if err != nil {
			return r.fail(ctx, what, err)
		}
		var t dr.Token
		if err := json.Unmarshal([]byte(old), &t); err != nil {
			return fmt.Errorf("storage: %s: decode: %w", what, err)
		}
		if t.Revoked != 0 {
			return nil
		}
		t.Revoked = at
		b, err := json.Marshal(t)
		if err != nil {
			return fmt.Errorf("storage: %s: %w", what, err)
		}
		code, _, err := r.runScript(ctx, what, r.revokeScript, []string{r.globalKey("tokens")}, id, old, b)
		if err != nil {
			return err
		}
		switch code {
		case luaOK:
			return nil
		case luaNotFound:
			return fmt.Errorf("storage: %s: %w", what, ErrNotFound)
		}
		// luaConflict: changed under us; read again.
	}
}

// AppendAudit appends e to the audit log and returns it with its Seq. The
// list is append-only, so the length RPUSH returns is the new entry's seq;
// the stored JSON carries seq 0 and Audit fills it in from the position.
func (r *Redis) AppendAudit(ctx context.Context, e dr.AuditEntry) (dr.AuditEntry, error) {
	if err := r.check("append audit"); err != nil {
		return dr.AuditEntry{}, err
	}
	e.Seq = 0
	b, err := json.Marshal(e)
	if err != nil {
		return dr.AuditEntry{}, fmt.Errorf("storage: append audit: %w", err)
	}
	n, err := r.client.RPush(ctx, r.globalKey("audit"), b).Result()
	if err != nil {
		return dr.AuditEntry{}, r.fail(ctx, "append audit", err)
	}
	e.Seq = n
	return e, nil
}

// Audit returns up to limit entries with Seq > afterSeq, in seq order;
// limit <= 0 means all of them.
func (r *Redis) Audit(ctx context.Context, afterSeq int64, limit int) ([]dr.AuditEntry, error) {
	if err := r.check("audit"); err != nil {
		return nil, err
	}
	if afterSeq < 0 {
		afterSeq = 0
	}
	stop := int64(-1)
	if limit > 0 {
		stop = afterSeq + int64(limit) - 1
	}
	raw, err := r.client.LRange(ctx, r.globalKey("audit"), afterSeq, stop).Result()
	if err != nil {
		return nil, r.fail(ctx, "audit", err)
	}
	out, err := decodeList[dr.AuditEntry]("audit", raw)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Seq = afterSeq + int64(i) + 1
	}
	return out, nil
}

// Close stops the fan-out and closes the client. Calls after Close return
// ErrClosed.
func (r *Redis) Close() error {
	if r.closed.Swap(true) {
		return nil
	}
	r.fan.close()
	if err := r.client.Close(); err != nil && !errors.Is(err, redis.ErrClosed) {
		return fmt.Errorf("storage: close redis: %w", err)
	}
	return nil
}

// Health returns ErrClosed after Close, else nil: whether Redis answers
// is for a read to find out (it costs no round trip), and when it answers
// it takes writes.
func (r *Redis) Health() error { return r.check("health") }

// Backup writes nothing: the backup of a Redis store is Redis's own RDB or
// AOF files (docs/OPERATIONS.md), which hold every node's writes. It
// returns an error wrapping errors.ErrUnsupported (ErrClosed after Close).
func (r *Redis) Backup(ctx context.Context, w io.Writer) (int64, error) {
	if err := r.check("backup"); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("storage: backup: back up Redis's own RDB or AOF files instead: %w", errors.ErrUnsupported)
}

// patchDraftLua sets a draft's title and archived fields, if it exists.
// KEYS: 1 meta. ARGV: 1 "1" to set the title, 2 title, 3 "1" to set
// archived, 4 "1" archived or "0" not.
const patchDraftLua = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {1, 0} end
if ARGV[1] == '1' then redis.call('HSET', KEYS[1], 'title', ARGV[2]) end
if ARGV[3] == '1' then redis.call('HSET', KEYS[1], 'archived', ARGV[4]) end
return {0, 0}
`

// PatchDraft changes a draft's title or archived flag (fields of its meta
// hash beside the creation record, so one script sets them without
// rewriting it) and returns the draft as it now is: ErrInvalid if
// checkPatch refuses p, ErrNotFound for an unknown draft.
func (r *Redis) PatchDraft(ctx context.Context, id string, p dr.DraftPatch) (dr.Draft, error) {
	if err := r.check("patch draft"); err != nil {
		return dr.Draft{}, err
	}
	if err := checkPatch(id, p); err != nil {
		return dr.Draft{}, err
	}
	setTitle, title, setArchived, archived := "0", "", "0", "0"
	if p.Title != nil {
		setTitle, title = "1", *p.Title
	}
	if p.Archived != nil {
		setArchived = "1"
		if *p.Archived {
			archived = "1"
		}
	}
	what := "patch draft " + id
	code, n, err := r.runScript(ctx, what, r.patchScript, []string{r.draftKey(id, "meta")}, setTitle, title, setArchived, archived)
	if err != nil {
		return dr.Draft{}, err
	}
	if err := scriptErr(what, code, n); err != nil {
		return dr.Draft{}, err
	}
	return r.Draft(ctx, id)
}
