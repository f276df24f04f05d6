package main

// Operations flags of `draftroom serve`: periodic backups, /metrics, and
// how open mode is settled once the store is open (decideMode).

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"time"

	"github.com/draftroom/draftroom/dr"
)

// backupConfig is -backup-dir, -backup-every, -backup-keep.
type backupConfig struct {
	Dir   string
	Every time.Duration
	Keep  int
}

// metricsConfig is -metrics and -metrics-token.
type metricsConfig struct {
	On, Set bool
	Token   string
}

// metricsFlag is -metrics: a bool whose default depends on the address.
type metricsFlag struct{ m *metricsConfig }

func (f metricsFlag) String() string {
	if f.m == nil || !f.m.Set {
		return "true on loopback addresses or with -metrics-token, else false"
	}
	return strconv.FormatBool(f.m.On)
}

func (f metricsFlag) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	f.m.On, f.m.Set = v, true
	return nil
}

func (f metricsFlag) IsBoolFlag() bool { return true }

func addOpsFlags(fs *flag.FlagSet, cfg *config, getenv func(string) string) {
	fs.StringVar(&cfg.Backup.Dir, "backup-dir", getenv("DRAFTROOM_BACKUP_DIR"), "take periodic online backups of the embedded store into this directory (env DRAFTROOM_BACKUP_DIR); off by default")
	fs.DurationVar(&cfg.Backup.Every, "backup-every", time.Hour, "time between periodic backups (with -backup-dir)")
	fs.IntVar(&cfg.Backup.Keep, "backup-keep", 48, "periodic backups kept, the newest (with -backup-dir); 0 keeps all")
	fs.Var(metricsFlag{&cfg.Metrics}, "metrics", "serve Prometheus metrics at /metrics; default true on loopback addresses (local requests only) or with -metrics-token")
	fs.StringVar(&cfg.Metrics.Token, "metrics-token", getenv("DRAFTROOM_METRICS_TOKEN"), "bearer token a scrape of /metrics must carry (env DRAFTROOM_METRICS_TOKEN)")
}

// checkOpsFlags settles the defaults that depend on the address and
// refuses combinations that make no sense.
func checkOpsFlags(fs *flag.FlagSet, cfg *config, loopback bool) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if cfg.Backup.Dir != "" && cfg.Backup.Every < time.Minute {
		return fmt.Errorf("-backup-every %s: at least 1m", cfg.Backup.Every)
	}
	if cfg.Backup.Keep < 0 {
		return fmt.Errorf("-backup-keep %d: 0 (keep all) or more", cfg.Backup.Keep)
	}
	if !cfg.Metrics.Set {
		cfg.Metrics.On = loopback || cfg.Metrics.Token != ""
		cfg.Server.MetricsByDefault = cfg.Metrics.On && cfg.Metrics.Token == ""
	}
	cfg.Server.MetricsToken = cfg.Metrics.Token
	if !set["drain-wait"] && loopback {
		cfg.DrainWait = 0 // a developer's Ctrl-C; no load balancer to tell
	}
	return nil
}

// decideMode settles open mode once the store is open. -open (or
// DRAFTROOM_OPEN) decides when given. Otherwise open mode is on only on
// a loopback address whose store holds no token, and then only for
// requests without proxy headers (server.Config.OpenByDefault). The
// reason goes to the startup line and /healthz.
func decideMode(ctx context.Context, cfg *config, st dr.Store) error {
	sc := &cfg.Server
	switch {
	case cfg.OpenSet && cfg.Open:
		sc.ModeReason = "-open given"
	case cfg.OpenSet:
		sc.ModeReason = "-open=false given"
	case !isLoopback(cfg.Addr):
		cfg.Open, sc.ModeReason = false, "not a loopback address"
	default:
		toks, err := st.Tokens(ctx)
		if err != nil {
			return fmt.Errorf("read tokens: %w", err)
		}
		if len(toks) > 0 {
			cfg.Open, sc.ModeReason = false, "the store holds tokens; -open turns open mode on"
		} else {
			cfg.Open, sc.OpenByDefault = true, true
			sc.ModeReason = "loopback address and no token in the store; requests through a proxy (Forwarded, X-Forwarded-For) still need a token"
		}
	}
	sc.Open = cfg.Open
	return nil
}
