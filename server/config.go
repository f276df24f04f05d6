package server

import (
	"io/fs"
	"log/slog"
	"time"
)

// Connection timing. They are related: a peer must answer a ping within
// PongWait, so PingPeriod must be shorter than PongWait (the server pings
// every PingPeriod and, on each pong, extends the read deadline to now +
// PongWait). WriteWait bounds one write (a frame or a ping) to a slow peer.
const (
	DefaultPongWait   = 60 * time.Second
	DefaultPingPeriod = DefaultPongWait * 9 / 10
	DefaultWriteWait  = 10 * time.Second
	// DefaultHelloWait is how long a new connection may stay silent before
	// its hello.
	DefaultHelloWait = 10 * time.Second
)

// Config holds the server's settings. The zero value of a field means its
// default (see Defaults); New fills them in.
type Config struct {
	// Open enables open mode: a hello may carry delegation, name and role
	// instead of a token, and HTTP requests without a token act as the
	// open-mode facilitator (see OpenAuth). Never the default beyond
	// loopback; main enforces that.
	Open bool
	// OpenByDefault: open mode was not asked for (-open) but chosen
	// because the store held no token on a loopback address. Then a
	// request or hello that carries proxy headers (Forwarded,
	// X-Forwarded-For: it came through a reverse proxy, perhaps from
	// anywhere) is not served as open mode (unauthorized without a
	// token), and open mode ends once a token is issued through this
	// server (openmode.go).
	OpenByDefault bool
	// ModeReason says why the server is in open mode or not, for /healthz.
	ModeReason string
	// Backups reports the periodic backups for /healthz; nil: none.
	Backups BackupReporter
	// BackupScratch is the directory GET /api/admin/backup writes its copy
	// to before sending it (the store's read transaction lasts only as
	// long as the local write). Default os.TempDir(); main uses the data
	// directory.
	BackupScratch string
	// MetricsToken, when set, is the bearer token a scrape of /metrics
	// (Server.SetMetrics) must carry; MetricsByDefault: metrics were not
	// asked for but are on (loopback), so a request with proxy headers is
	// refused like open mode's.
	MetricsToken     string
	MetricsByDefault bool
	// Auth authenticates tokens (hello "token" and HTTP "Authorization:
	// Bearer"). Nil: no tokens are accepted (only open mode, if enabled).
	Auth Authenticator
	// Fanout connects this node to the other server nodes sharing its
	// store (main sets it to the storage.Redis it opened, which is also
	// the Store). Nil: this node is the only one serving its store.
	Fanout Fanout

	// MaxFrameBytes is the largest WebSocket frame (or HTTP request body
	// for ops) the server reads; bigger gets too_large. Default 1 MiB.
	MaxFrameBytes int64
	// MaxBodyBytes bounds HTTP request bodies (POST /api/docs carries a
	// whole draft). Default 16 MiB.
	MaxBodyBytes int64
	// MaxDraftLen is the longest draft in code points: a create, import or
	// op that would make a draft longer gets too_large. Default 2,000,000.
	MaxDraftLen int
	// OpsPerSecond and OpsBurst are the token bucket for ops (and
	// server-built requests) per connection; beyond it: rate_limited.
	// Defaults 1000 and 2000 (a client with one op in flight rarely
	// exceeds one op per round trip; the bucket stops floods).
	OpsPerSecond float64
	OpsBurst     int
	// MsgsPerSecond and MsgsBurst are the token bucket for all messages of
	// a connection (presence floods). Defaults 2000 and 4000.
	MsgsPerSecond float64
	MsgsBurst     int
	// MaxDraftsPerConn is how many drafts one connection may have open.
	// Default 64.
	MaxDraftsPerConn int
	// TokenOpsPerSecond/TokenOpsBurst and TokenMsgsPerSecond/TokenMsgsBurst
	// are token buckets shared by all connections of one token (limits.go),
	// so opening more connections does not multiply a flood. Defaults
	// 2000/4000 and 4000/8000. Open-mode identities have none.
	TokenOpsPerSecond  float64
	TokenOpsBurst      int
	TokenMsgsPerSecond float64
	TokenMsgsBurst     int
	// MaxRefusedPerSecond: a connection that has this many messages
	// refused as rate_limited within one second is not slowing down; it is
	// closed (1008) instead of being answered further. Default 200.
	MaxRefusedPerSecond int
	// MaxConnsPerToken is how many WebSockets one token may have open on
	// this server; the next hello gets rate_limited. Default 16.
	MaxConnsPerToken int
	// TokenRecheck is how often the tokens of open connections are read
	// again from the store, so that a revocation made through another node
	// and an expiry close them. Default 30s (revocation through this
	// server closes them at once).
	TokenRecheck time.Duration
	// AllowOrigins lists browser origins (scheme://host[:port]) besides the
	// server's own that may open WebSockets; "*" allows any (development
	// only). Default none (origin.go).
	AllowOrigins []string
	// AllowHosts lists host names (without port) that requests may name in
	// Host in open mode, besides IP addresses and localhost; "*" allows any.
	// main adds the host name of the listen address. Default none
	// (origin.go, guardOpen: DNS rebinding).
	AllowHosts []string
	// WriteCoalesce: a connection's write pump that wrote less than this
	// long ago waits out the rest before writing other clients' ops and
	// presence, so that under load the frames of several commits share
	// one write (one system call, one wake-up of the reader) instead of
	// one each. Replies to the connection's own requests (acks, errors)
	// never wait, and an idle connection writes at once. Default 1ms;
	// negative disables it.
	WriteCoalesce time.Duration
	// SendQueue is the number of frames queued per connection; a
	// subscriber whose queue is full is disconnected (it resumes from its
	// revision). Default 4096: an op frame is encoded once per draft and
	// shared, so a queued frame costs a connection 24 bytes, and at
	// thousands of ops per second a smaller queue drops readers that
	// were descheduled for a few tens of milliseconds, or that receive a
	// burst of ops another node committed.
	SendQueue int
	// SnapshotEvery: after a commit, the draft's owner writes a snapshot
	// when this many revisions have passed since the last. Default 256.
	SnapshotEvery int
	// RecentOps is how many committed ops a draft keeps in memory to
	// transform submissions and resume subscribers without reading the
	// store. Default 1024.
	RecentOps int
	// BatchMax is the most submissions committed together. Default 128.
	BatchMax int
	// IdleGrace: a draft with no subscribers stays loaded this long.
	// Default 30s.
	IdleGrace time.Duration
	// NodeTTL: on a store shared by several nodes (Redis), each node
	// renews a heartbeat valid this long every NodeTTL/5; a node whose
	// heartbeat expires is taken for dead, and the others announce "left"
	// for its clients' presence. Default 5s.
	NodeTTL time.Duration
	// CommitTimeout bounds one store call of a draft's owner. It is not
	// tied to shutdown, so in-flight commits finish. Default 10s.
	CommitTimeout time.Duration

	// PingPeriod, PongWait, WriteWait, HelloWait: see the constants.
	PingPeriod time.Duration
	PongWait   time.Duration
	WriteWait  time.Duration
	HelloWait  time.Duration

	// Web is the web UI served at / (the embedded bundle); nil serves a
	// placeholder page.
	Web fs.FS

	// Logger receives internal errors and lifecycle events. Default
	// slog.Default().
	Logger *slog.Logger
	// Now is the clock (Unix ms for op timestamps); tests replace it.
	Now func() time.Time
}

// Defaults returns cfg with every zero field set to its default.
func (cfg Config) Defaults() Config {
	setDefault(&cfg.MaxFrameBytes, 1<<20)
	setDefault(&cfg.MaxBodyBytes, 16<<20)
	setDefault(&cfg.MaxDraftLen, 2_000_000)
	setDefault(&cfg.OpsPerSecond, 1000)
	setDefault(&cfg.OpsBurst, 2000)
	setDefault(&cfg.MsgsPerSecond, 2000)
	setDefault(&cfg.MsgsBurst, 4000)
	setDefault(&cfg.MaxDraftsPerConn, 64)
	setDefault(&cfg.TokenOpsPerSecond, 2000)
	setDefault(&cfg.TokenOpsBurst, 4000)
	setDefault(&cfg.TokenMsgsPerSecond, 4000)
	setDefault(&cfg.TokenMsgsBurst, 8000)
	setDefault(&cfg.MaxConnsPerToken, 16)
	setDefault(&cfg.MaxRefusedPerSecond, 200)
	setDefault(&cfg.TokenRecheck, 30*time.Second)
	if cfg.WriteCoalesce == 0 {
		cfg.WriteCoalesce = time.Millisecond
	}
	setDefault(&cfg.SendQueue, 4096)
	setDefault(&cfg.SnapshotEvery, 256)
	setDefault(&cfg.RecentOps, 1024)
	setDefault(&cfg.BatchMax, 128)
	setDefault(&cfg.IdleGrace, 30*time.Second)
	setDefault(&cfg.CommitTimeout, 10*time.Second)
	setDefault(&cfg.NodeTTL, 5*time.Second)
	setDefault(&cfg.PongWait, DefaultPongWait)
	setDefault(&cfg.PingPeriod, cfg.PongWait*9/10)
	setDefault(&cfg.WriteWait, DefaultWriteWait)
	setDefault(&cfg.HelloWait, DefaultHelloWait)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg
}

func setDefault[T int | int64 | float64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}
