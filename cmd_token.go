package main

// `draftroom token issue|list|revoke`: manage access tokens, either
// directly in the store (the embedded bbolt file or Redis) or through a
// running server's HTTP API (-server URL with a facilitator token).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/draftroom/draftroom/auth"
	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/storage"
)

// errStoreBusy: the bbolt file is locked by a running server.
var errStoreBusy = errors.New("store in use")

const tokenUsage = `usage:
  draftroom token issue  -delegation CAN -name "Ana Silva" -role drafter [-drafts 'art-*'] [-expires 720h]
  draftroom token list   [-json]
  draftroom token revoke ID

Where the tokens are (one of):
  -data DIR       the embedded store of a server that is not running (default ./draftroom-data)
  -redis URL      a Redis store (the servers using it may be running)
  -server URL     a running server's HTTP API, as a facilitator: the token in
                  DRAFTROOM_TOKEN (or -token, visible to other users in ps)

The secret of an issued token is printed once, alone on stdout.
`

// tokenOptions are the flags shared by the token subcommands.
type tokenOptions struct {
	data, redis, server, token string
	asJSON                     bool
	// issue
	delegation, name, role, drafts string
	expires                        time.Duration
}

// tokenCmd runs `draftroom token VERB [flags] [ID]`.
func tokenCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, tokenUsage)
		if len(args) == 0 {
			return errors.New("token: say issue, list or revoke")
		}
		return flag.ErrHelp
	}
	verb := args[0]
	o, pos, err := parseTokenArgs(verb, args[1:], stderr)
	if err != nil {
		return err
	}
	tm, closeStore, err := openTokenManager(o)
	if err != nil {
		return err
	}
	defer closeStore()
	switch verb {
	case "issue":
		return issueToken(ctx, tm, o, stdout, stderr)
	case "list":
		return listTokens(ctx, tm, o.asJSON, stdout)
	default: // revoke
		return revokeToken(ctx, tm, pos[0], stdout, stderr)
	}
}

// parseTokenArgs reads the flags of verb and its positional arguments (the
// id of the token to revoke; none for the others).
func parseTokenArgs(verb string, args []string, stderr io.Writer) (tokenOptions, []string, error) {
	fs := flag.NewFlagSet("draftroom token "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, tokenUsage) }
	var o tokenOptions
	fs.StringVar(&o.data, "data", envOr("DRAFTROOM_DATA", defaultData), "data directory of the embedded store")
	fs.StringVar(&o.redis, "redis", os.Getenv("REDIS_URL"), "Redis URL")
	fs.StringVar(&o.server, "server", "", "base URL of a running server (http://host:port)")
	fs.StringVar(&o.token, "token", os.Getenv("DRAFTROOM_TOKEN"), "facilitator token for -server (prefer env DRAFTROOM_TOKEN)")
	switch verb {
	case "issue":
		fs.StringVar(&o.delegation, "delegation", "", "delegation code (CAN, EU, G77)")
		fs.StringVar(&o.name, "name", "", "the person's name")
		fs.StringVar(&o.role, "role", "", "facilitator, drafter or reviewer")
		fs.StringVar(&o.drafts, "drafts", "", "comma-separated draft id patterns the token may access ('art-*'); empty: all")
		fs.DurationVar(&o.expires, "expires", 0, "lifetime (720h); 0: never expires")
	case "list":
		fs.BoolVar(&o.asJSON, "json", false, "print JSON")
	case "revoke":
	default:
		fmt.Fprint(stderr, tokenUsage)
		return o, nil, fmt.Errorf("token: unknown command %q (issue, list, revoke)", verb)
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return o, nil, err
	}
	if err := explicitStore(fs, &o.redis); err != nil {
		return o, nil, fmt.Errorf("token: %w", err)
	}
	switch {
	case verb == "revoke" && len(pos) != 1:
		return o, nil, errors.New("token revoke: give the id of one token (see draftroom token list)")
	case verb != "revoke" && len(pos) != 0:
		return o, nil, fmt.Errorf("token %s: unexpected argument %q", verb, pos[0])
	}
	return o, pos, nil
}

// openTokenManager returns where the tokens are, as o says: a running
// server's API (-server) or the store itself, and how to let go of it.
func openTokenManager(o tokenOptions) (tokenManager, func(), error) {
	if o.server != "" {
		if o.token == "" {
			return nil, nil, errors.New("token: -server needs a facilitator token in DRAFTROOM_TOKEN (or -token)")
		}
		return &httpTokens{base: strings.TrimRight(o.server, "/"), token: o.token, client: &http.Client{Timeout: 30 * time.Second}}, func() {}, nil
	}
	st, err := openTokenStore(o)
	if err != nil {
		return nil, nil, err
	}
	return &storeTokens{st: st, redis: o.redis != ""}, func() { st.Close() }, nil
}

// issueToken issues the token o describes: its secret alone on stdout,
// what it grants on stderr.
func issueToken(ctx context.Context, tm tokenManager, o tokenOptions, stdout, stderr io.Writer) error {
	req := auth.Request{Delegation: o.delegation, Name: o.name, Role: o.role, TTL: o.expires}
	for _, p := range strings.Split(o.drafts, ",") {
		if p = strings.TrimSpace(p); p != "" {
			req.Drafts = append(req.Drafts, p)
		}
	}
	if err := req.Check(); err != nil {
		return fmt.Errorf("token issue: %w", err)
	}
	secret, tok, err := tm.issue(ctx, req)
	if err != nil {
		return fmt.Errorf("token issue: %w", err)
	}
	fmt.Fprintln(stdout, secret)
	fmt.Fprintf(stderr, "issued token %s: %s %s (%s), drafts %s, expires %s\n",
		tok.ID, tok.Role, tok.Delegation, tok.Name, draftsText(tok.Drafts), msText(tok.Expires, "never"))
	fmt.Fprintln(stderr, "The secret above is shown once; hand it over privately.")
	return nil
}

// listTokens prints the tokens, oldest first: a table, or JSON without
// their hashes.
func listTokens(ctx context.Context, tm tokenManager, asJSON bool, stdout io.Writer) error {
	toks, err := tm.list(ctx)
	if err != nil {
		return fmt.Errorf("token list: %w", err)
	}
	sort.Slice(toks, func(i, j int) bool { return toks[i].Created < toks[j].Created })
	if asJSON {
		for i := range toks {
			toks[i].Hash = ""
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(toks)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tROLE\tDELEGATION\tNAME\tDRAFTS\tCREATED\tEXPIRES\tSTATUS")
	now := time.Now()
	for _, t := range toks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Role, t.Delegation, t.Name,
			draftsText(t.Drafts), msText(t.Created, ""), msText(t.Expires, "never"), tokenStatus(t, now))
	}
	return tw.Flush()
}

// tokenStatus is how the list reads t's validity at now.
func tokenStatus(t dr.Token, now time.Time) string {
	switch err := auth.Valid(t, now); {
	case errors.Is(err, auth.ErrRevoked):
		return "revoked " + msText(t.Revoked, "")
	case errors.Is(err, auth.ErrExpired):
		return "expired"
	}
	return "active"
}

// revokeToken revokes token id.
func revokeToken(ctx context.Context, tm tokenManager, id string, stdout, stderr io.Writer) error {
	tok, note, err := tm.revoke(ctx, id)
	if err != nil {
		return fmt.Errorf("token revoke: %w", err)
	}
	fmt.Fprintf(stdout, "revoked token %s (%s %s, %s)\n", tok.ID, tok.Role, tok.Delegation, tok.Name)
	if note != "" {
		fmt.Fprintln(stderr, note)
	}
	return nil
}

// parseInterspersed parses flags that may come before or after the
// positional arguments ("revoke ID -data d" as well as "revoke -data d ID").
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func draftsText(d []string) string {
	if len(d) == 0 {
		return "all"
	}
	return strings.Join(d, ",")
}

func msText(ms int64, zero string) string {
	if ms == 0 {
		return zero
	}
	return time.UnixMilli(ms).UTC().Format("2006-01-02 15:04Z")
}

// tokenManager issues, lists and revokes tokens somewhere.
type tokenManager interface {
	issue(ctx context.Context, r auth.Request) (string, dr.Token, error)
	list(ctx context.Context) ([]dr.Token, error)
	// revoke returns the token and a note for the operator.
	revoke(ctx context.Context, id string) (dr.Token, string, error)
}

// openTokenStore opens Redis or the embedded store. A bbolt file held by a
// running server is reported at once with what to do instead.
func openTokenStore(o tokenOptions) (dr.Store, error) {
	if o.redis != "" {
		s, err := storage.OpenRedisURL(o.redis, storage.RedisOptions{})
		if err != nil {
			return nil, fmt.Errorf("redis: %w", err)
		}
		return s, nil
	}
	path := filepath.Join(o.data, "draftroom.db")
	// bbolt allows one process per file; a running server holds its lock
	// for as long as it runs, so waiting longer would not help.
	s, err := storage.OpenBolt(path, storage.BoltOptions{Timeout: 500 * time.Millisecond})
	if err != nil {
		if fileLocked(path) {
			return nil, fmt.Errorf("%w: %s is held by a running draftroom server (the embedded store allows one process). "+
				"Manage tokens through that server instead: DRAFTROOM_TOKEN=<facilitator token> draftroom token ... -server http://HOST:PORT, "+
				"or stop the server first", errStoreBusy, path)
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return s, nil
}

// fileLocked reports whether another process holds a lock on path (bbolt
// takes an exclusive flock).
func fileLocked(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
	if err == nil {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return false
	}
	return errors.Is(err, syscall.EWOULDBLOCK)
}

// storeTokens manages tokens directly in a store, as the operator.
type storeTokens struct {
	st    dr.Store
	redis bool
}

// operator is the audit actor of the token command.
func operator() dr.Author {
	name := "draftroom token"
	if u, err := user.Current(); err == nil {
		name += " (" + u.Username + ")"
	}
	return dr.Author{Delegation: "operator", Name: name}
}

func (s *storeTokens) audit(ctx context.Context, action, detail string) {
	e := dr.AuditEntry{TS: time.Now().UnixMilli(), Actor: operator(), Role: "operator", Action: action, Detail: detail}
	if _, err := s.st.AppendAudit(ctx, e); err != nil {
		fmt.Fprintln(os.Stderr, "draftroom: warning: audit log:", err)
	}
}

func (s *storeTokens) issue(ctx context.Context, r auth.Request) (string, dr.Token, error) {
	r.IssuedBy = "cli"
	secret, tok, err := auth.Issue(ctx, s.st, r, time.Now())
	if err != nil {
		return "", dr.Token{}, err
	}
	s.audit(ctx, "token.issue", fmt.Sprintf("id=%s role=%s delegation=%s name=%q drafts=%s", tok.ID, tok.Role, tok.Delegation, tok.Name, draftsText(tok.Drafts)))
	return secret, tok, nil
}

func (s *storeTokens) list(ctx context.Context) ([]dr.Token, error) { return s.st.Tokens(ctx) }

func (s *storeTokens) revoke(ctx context.Context, id string) (dr.Token, string, error) {
	tok, err := s.st.Token(ctx, id)
	if err != nil {
		return dr.Token{}, "", err
	}
	if err := s.st.RevokeToken(ctx, id, time.Now().UnixMilli()); err != nil {
		return dr.Token{}, "", err
	}
	if tok.Revoked == 0 {
		s.audit(ctx, "token.revoke", fmt.Sprintf("id=%s role=%s delegation=%s name=%q", tok.ID, tok.Role, tok.Delegation, tok.Name))
	}
	note := ""
	if s.redis {
		note = "Servers on this Redis refuse the token from now on and close its open connections within -token-recheck (30s by default); revoke with -server for an immediate close."
	}
	return tok, note, nil
}

// httpTokens manages tokens through a running server's API.
type httpTokens struct {
	base, token string
	client      *http.Client
}

// apiToken is a token as /api/tokens shows it.
type apiToken struct {
	Token      string   `json:"token"`
	ID         string   `json:"id"`
	Delegation string   `json:"delegation"`
	Name       string   `json:"name"`
	Role       string   `json:"role"`
	Drafts     []string `json:"drafts"`
	Created    int64    `json:"created"`
	Expires    int64    `json:"expires"`
	Revoked    int64    `json:"revoked"`
	IssuedBy   string   `json:"issued_by"`
	Closed     int      `json:"closed"`
}

func (a apiToken) stored() dr.Token {
	return dr.Token{ID: a.ID, Delegation: a.Delegation, Name: a.Name, Role: a.Role, Drafts: a.Drafts,
		Created: a.Created, Expires: a.Expires, Revoked: a.Revoked, IssuedBy: a.IssuedBy}
}

func (h *httpTokens) call(ctx context.Context, method, path string, body, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, h.base+path, r)
	if err != nil {
		return fmt.Errorf("server URL: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+h.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct{ Code, Message string }
		}
		if json.Unmarshal(data, &e) == nil && e.Error.Code != "" {
			return fmt.Errorf("server: %s: %s", e.Error.Code, e.Error.Message)
		}
		return fmt.Errorf("server: %s", resp.Status)
	}
	return json.Unmarshal(data, out)
}

func (h *httpTokens) issue(ctx context.Context, r auth.Request) (string, dr.Token, error) {
	body := map[string]any{"delegation": r.Delegation, "name": r.Name, "role": r.Role, "drafts": r.Drafts}
	if r.TTL > 0 {
		body["expires_in"] = r.TTL.String()
	}
	var out apiToken
	if err := h.call(ctx, "POST", "/api/tokens", body, &out); err != nil {
		return "", dr.Token{}, err
	}
	return out.Token, out.stored(), nil
}

func (h *httpTokens) list(ctx context.Context) ([]dr.Token, error) {
	var out struct{ Tokens []apiToken }
	if err := h.call(ctx, "GET", "/api/tokens", nil, &out); err != nil {
		return nil, err
	}
	toks := make([]dr.Token, len(out.Tokens))
	for i, t := range out.Tokens {
		toks[i] = t.stored()
	}
	return toks, nil
}

func (h *httpTokens) revoke(ctx context.Context, id string) (dr.Token, string, error) {
	toks, err := h.list(ctx)
	if err != nil {
		return dr.Token{}, "", err
	}
	var tok dr.Token
	for _, t := range toks {
		if t.ID == id {
			tok = t
		}
	}
	var out apiToken
	if err := h.call(ctx, "DELETE", "/api/tokens/"+url.PathEscape(id), nil, &out); err != nil {
		return dr.Token{}, "", err
	}
	if tok.ID == "" {
		tok.ID = out.ID
	}
	return tok, fmt.Sprintf("%d open connection(s) closed", out.Closed), nil
}
