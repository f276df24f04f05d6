// Command draftroom is the live drafting server. `draftroom` (or
// `draftroom serve`) runs the server; other subcommands (`token`, `load`)
// are listed in the subcommands table.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/metrics"
	"github.com/draftroom/draftroom/server"
	"github.com/draftroom/draftroom/storage"
)

// command is a subcommand: args are those after its name.
type command func(ctx context.Context, args []string, stdout, stderr io.Writer) error

// subcommands maps os.Args[1] to a command, each in its cmd_*.go file.
// Without a known subcommand, draftroom serves.
var subcommands = map[string]command{
	"backup":  backupCmd,
	"check":   checkCmd,
	"load":    loadCommand,
	"recover": recoverCmd,
	"token":   tokenCmd,
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	args := os.Args[1:]
	cmd := command(serve)
	if len(args) > 0 {
		if args[0] == "serve" {
			args = args[1:]
		} else if c, ok := subcommands[args[0]]; ok {
			cmd, args = c, args[1:]
		}
	}
	err := cmd(ctx, args, os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "draftroom:", err)
		os.Exit(1)
	}
}

// config is everything `draftroom serve` is started with.
type config struct {
	Addr            string
	Data            string
	Redis           string
	RedisWait       time.Duration // how long startup waits for Redis
	Open            bool
	OpenPublic      bool
	NoSync          bool
	Pprof           string // address of the net/http/pprof listener; "" = none
	TLSCert         string // PEM certificate (chain) file; with TLSKey serves HTTPS/WSS
	TLSKey          string
	HTTP            httpTimeouts
	ShutdownTimeout time.Duration
	DrainWait       time.Duration // /healthz answers 503 this long before shutdown starts
	OpenSet         bool          // -open (or DRAFTROOM_OPEN) was given
	Backup          backupConfig  // cmd_backup.go
	Metrics         metricsConfig // ops_flags.go
	Server          server.Config
}

// Defaults of the serve flags.
const (
	defaultAddr = "127.0.0.1:8080"
	defaultData = "./draftroom-data"
)

// openFlag is -open: a bool flag whose default depends on the address.
type openFlag struct {
	set, value bool
}

func (f *openFlag) String() string {
	if f == nil || !f.set {
		return "true on loopback addresses, else false"
	}
	return strconv.FormatBool(f.value)
}

func (f *openFlag) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	f.set, f.value = true, v
	return nil
}

func (f *openFlag) IsBoolFlag() bool { return true }

// parseConfig reads flags, with environment variables as their defaults.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("draftroom", flag.ContinueOnError)
	fs.SetOutput(stderr)
	envOr := func(key, def string) string {
		if v := getenv(key); v != "" {
			return v
		}
		return def
	}
	var cfg config
	var open openFlag
	if v := getenv("DRAFTROOM_OPEN"); v != "" {
		if err := open.Set(v); err != nil {
			return cfg, fmt.Errorf("DRAFTROOM_OPEN=%q: want true or false", v)
		}
	}
	sc := server.Config{}.Defaults()
	fs.StringVar(&cfg.Addr, "addr", envOr("DRAFTROOM_ADDR", defaultAddr), "listen address host:port (env DRAFTROOM_ADDR)")
	fs.StringVar(&cfg.Data, "data", envOr("DRAFTROOM_DATA", defaultData), "data directory of the embedded store (env DRAFTROOM_DATA)")
	fs.StringVar(&cfg.Redis, "redis", getenv("REDIS_URL"), "Redis URL (redis://host:port/db); uses Redis instead of the embedded store (env REDIS_URL)")
	fs.DurationVar(&cfg.RedisWait, "redis-wait", 60*time.Second, "at startup, how long to wait for a Redis that is unreachable or still loading its data (0: try once)")
	fs.Var(&open, "open", "open mode: no tokens, anyone names their delegation and role; default true on loopback addresses only (env DRAFTROOM_OPEN)")
	fs.BoolVar(&cfg.OpenPublic, "open-public-i-know", false, "allow open mode on a non-loopback address (anyone who can reach it can edit)")
	fs.BoolVar(&cfg.NoSync, "unsafe-nosync", false, "do not fsync commits (benchmarks only: a crash loses acknowledged ops)")
	fs.StringVar(&cfg.Pprof, "pprof", "", "serve net/http/pprof on this loopback address (host:port), separately from -addr; off by default")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", 15*time.Second, "how long shutdown waits for connections and commits")
	fs.DurationVar(&cfg.DrainWait, "drain-wait", 5*time.Second, "after SIGTERM, how long /healthz answers 503 (so a load balancer stops sending connections) before shutdown starts; everything else is still served meanwhile")
	addOpsFlags(fs, &cfg, getenv)
	fs.Int64Var(&sc.MaxFrameBytes, "max-frame", sc.MaxFrameBytes, "largest WebSocket frame in bytes (too_large beyond)")
	fs.Int64Var(&sc.MaxBodyBytes, "max-body", sc.MaxBodyBytes, "largest HTTP request body in bytes")
	fs.IntVar(&sc.MaxDraftLen, "max-draft-len", sc.MaxDraftLen, "longest draft in code points")
	fs.Float64Var(&sc.OpsPerSecond, "ops-per-sec", sc.OpsPerSecond, "ops per second per connection (rate_limited beyond)")
	fs.IntVar(&sc.OpsBurst, "ops-burst", sc.OpsBurst, "burst of ops per connection")
	fs.Float64Var(&sc.MsgsPerSecond, "msgs-per-sec", sc.MsgsPerSecond, "messages per second per connection")
	fs.IntVar(&sc.MsgsBurst, "msgs-burst", sc.MsgsBurst, "burst of messages per connection")
	fs.IntVar(&sc.MaxDraftsPerConn, "max-drafts-per-conn", sc.MaxDraftsPerConn, "drafts open per connection")
	fs.DurationVar(&sc.WriteCoalesce, "write-coalesce", sc.WriteCoalesce, "under load, how long a connection's writes of others' ops may wait to share one system call (negative: off)")
	fs.IntVar(&sc.SendQueue, "send-queue", sc.SendQueue, "frames queued per connection before a slow one is disconnected")
	fs.IntVar(&sc.SnapshotEvery, "snapshot-every", sc.SnapshotEvery, "revisions between snapshots")
	addSecurityFlags(fs, &cfg, &sc, getenv)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: draftroom [serve] [flags]\n       draftroom <subcommand> ...  (subcommands: %s)\n\nflags:\n", strings.Join(subcommandNames(), ", "))
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q (see -h)", fs.Arg(0))
	}
	if err := explicitStore(fs, &cfg.Redis); err != nil {
		return cfg, err
	}
	loopback := isLoopback(cfg.Addr)
	cfg.Open = loopback
	if open.set {
		cfg.Open, cfg.OpenSet = open.value, true
	}
	if cfg.Open && !loopback && !cfg.OpenPublic {
		return cfg, fmt.Errorf("refusing open mode on %s, which is not a loopback address: anyone who reaches it could edit as any delegation; use tokens, or add -open-public-i-know", cfg.Addr)
	}
	if cfg.Pprof != "" && !isLoopback(cfg.Pprof) {
		return cfg, fmt.Errorf("-pprof %s: profiles expose memory contents; give a loopback address", cfg.Pprof)
	}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return cfg, fmt.Errorf("-tls-cert and -tls-key go together")
	}
	sc.Open = cfg.Open
	sc.AllowHosts = append(sc.AllowHosts, listenHostName(cfg.Addr)...)
	cfg.Server = sc
	if err := checkOpsFlags(fs, &cfg, loopback); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// explicitStore settles which store a command line names when REDIS_URL is
// in the environment: -data given on the command line wins over the
// environment (a script that passes a fresh -data must get that directory,
// not a Redis it did not ask for), and -data with -redis is refused as
// ambiguous. redis is cleared when the embedded store is chosen.
func explicitStore(fs *flag.FlagSet, redis *string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case set["data"] && set["redis"]:
		return errors.New("give -data (the embedded store) or -redis, not both")
	case set["data"]:
		*redis = ""
	}
	return nil
}

func subcommandNames() []string {
	names := []string{"serve"}
	for n := range subcommands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// isLoopback reports whether addr listens only on a loopback interface.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// backend is the store serve opened: the storage contract every backend
// keeps, and the concrete store it is, for what only that kind has (the
// embedded store's periodic backups and metrics, Redis's fan-out between
// nodes). main holds what it opened rather than asking the store later.
type backend struct {
	dr.Store
	bolt  *storage.Bolt  // the embedded store, or nil
	redis *storage.Redis // the shared store, or nil
	where string         // for the startup line
}

// openStore opens Redis when a URL is given (waiting up to cfg.RedisWait
// for it), else the embedded bbolt store in the data directory.
func openStore(cfg config, logger *slog.Logger) (backend, error) {
	if cfg.Redis != "" {
		storage.RouteRedisLogs(logger, 10*time.Second)
		s, err := storage.OpenRedisURL(cfg.Redis, storage.RedisOptions{StartupWait: cfg.RedisWait, Logger: logger})
		if err != nil {
			return backend{}, fmt.Errorf("redis: %w", err)
		}
		return backend{Store: s, redis: s, where: "redis " + redactURL(cfg.Redis)}, nil
	}
	if err := os.MkdirAll(cfg.Data, 0o750); err != nil {
		return backend{}, fmt.Errorf("data directory: %w", err)
	}
	path := filepath.Join(cfg.Data, "draftroom.db")
	s, err := storage.OpenBolt(path, storage.BoltOptions{NoSync: cfg.NoSync, Logger: logger})
	if errors.Is(err, storage.ErrCorrupt) {
		return backend{}, fmt.Errorf("open %s: %w\nstop, copy %s somewhere safe, then run: draftroom recover -data %s", path, err, cfg.Data, cfg.Data)
	}
	if err != nil {
		return backend{}, fmt.Errorf("open %s: %w", path, err)
	}
	return backend{Store: s, bolt: s, where: path}, nil
}

// redactURL hides a password in a Redis URL.
func redactURL(u string) string {
	if i := strings.Index(u, "@"); i >= 0 {
		if j := strings.Index(u, "://"); j >= 0 && j < i {
			return u[:j+3] + "***" + u[i:]
		}
	}
	return u
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, os.Getenv, stderr)
	if err != nil {
		return err
	}
	return run(ctx, cfg, stdout, slog.New(slog.NewTextHandler(stderr, nil)))
}

// run serves until ctx ends, then shuts down in order: stop accepting,
// finish HTTP requests, close WebSockets, let the drafts finish their
// commits, close the store.
func run(ctx context.Context, cfg config, stdout io.Writer, logger *slog.Logger) error {
	st, err := openStore(cfg, logger)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := decideMode(ctx, &cfg, st); err != nil {
		return err
	}
	cfg.Server.Web = webFS()
	cfg.Server.Auth = server.NewTokenAuth(st, nil)
	if st.bolt != nil {
		cfg.Server.BackupScratch = cfg.Data
	}
	if st.redis != nil {
		cfg.Server.Fanout = st.redis
	}
	var schedule *storage.BackupSchedule
	if cfg.Backup.Dir != "" {
		if st.bolt == nil {
			return errors.New("-backup-dir backs up the embedded store; with Redis, back up its RDB or AOF files (docs/OPERATIONS.md)")
		}
		if err := os.MkdirAll(cfg.Backup.Dir, 0o750); err != nil {
			return fmt.Errorf("-backup-dir: %w", err)
		}
		schedule = &storage.BackupSchedule{Store: st.bolt, Dir: cfg.Backup.Dir, Every: cfg.Backup.Every, Keep: cfg.Backup.Keep, Logger: logger}
		cfg.Server.Backups = schedule
	}
	srv := server.New(cfg.Server, st, logger)
	if cfg.Metrics.On {
		srv.SetMetrics(metrics.Handler(srv, st.bolt))
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		// The server's fan-out and presence loops already run: stop them
		// before the store closes.
		srv.Shutdown(context.Background())
		return err
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	cfg.HTTP.apply(hs)
	mode := "tokens (" + cfg.Server.ModeReason + ")"
	if cfg.Open {
		mode = "OPEN MODE: anyone may edit as any delegation (" + cfg.Server.ModeReason + ")"
	}
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
	}
	fmt.Fprintf(stdout, "draftroom listening on %s://%s/ (store: %s; %s)\n", scheme, ln.Addr(), st.where, mode)
	if cfg.Open && !isLoopback(cfg.Addr) {
		logger.Warn("open mode on a non-loopback address: anyone who can reach it can edit")
	}
	if cfg.Pprof != "" {
		stopPprof, err := servePprof(cfg.Pprof, logger)
		if err != nil {
			ln.Close()
			srv.Shutdown(context.Background())
			return err
		}
		defer stopPprof()
	}
	// stopBackups ends the periodic backups (a backup under way is cut
	// short and its temporary file removed) before the store closes.
	stopBackups := func() {}
	if schedule != nil {
		bctx, cancel := context.WithCancel(context.Background())
		backupsDone := make(chan struct{})
		go func() { defer close(backupsDone); schedule.Run(bctx) }()
		stopBackups = sync.OnceFunc(func() { cancel(); <-backupsDone })
		defer stopBackups()
	}
	errc := make(chan error, 1)
	go func() {
		if cfg.TLSCert != "" {
			errc <- hs.ServeTLS(ln, cfg.TLSCert, cfg.TLSKey)
			return
		}
		errc <- hs.Serve(ln)
	}()
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			srv.Shutdown(context.Background())
			return err
		}
	case <-ctx.Done():
		if cfg.DrainWait > 0 {
			srv.Drain()
			logger.Info("draining: /healthz answers 503", "for", cfg.DrainWait)
			select {
			case <-time.After(cfg.DrainWait):
			case err := <-errc:
				if !errors.Is(err, http.ErrServerClosed) {
					srv.Shutdown(context.Background())
					return err
				}
			}
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	herr := hs.Shutdown(sctx)
	serr := srv.Shutdown(sctx)
	stopBackups()
	if err := st.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return errors.Join(herr, serr)
}

// servePprof serves net/http/pprof on its own listener, so profiles never
// share the public address; the returned func stops it.
func servePprof(addr string, logger *slog.Logger) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	logger.Info("pprof listening", "addr", ln.Addr().String())
	go hs.Serve(ln)
	return func() { hs.Close() }, nil
}
