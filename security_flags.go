package main

import (
	"flag"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/draftroom/draftroom/server"
)

// httpTimeouts bound plain HTTP requests (not WebSockets, whose deadlines
// the server sets itself once upgraded: hello wait, pong wait, write wait).
type httpTimeouts struct {
	Read, Write, Idle time.Duration
}

// Defaults of the HTTP timeouts: a whole request (a 16 MiB draft on a slow
// link) is read within Read; a response (an export) is written within
// Write; a kept-alive connection idle for Idle is closed.
const (
	defaultHTTPRead  = 60 * time.Second
	defaultHTTPWrite = 60 * time.Second
	defaultHTTPIdle  = 120 * time.Second
)

func (t httpTimeouts) apply(hs *http.Server) {
	hs.ReadTimeout, hs.WriteTimeout, hs.IdleTimeout = t.Read, t.Write, t.Idle
}

// originList is -allow-origin (and -allow-host): repeatable, each value may hold several
// origins separated by commas.
type originList []string

func (o *originList) String() string { return strings.Join(*o, ",") }

func (o *originList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*o = append(*o, s)
		}
	}
	return nil
}

// pongWait is -pong-wait: it also sets the ping period (nine tenths of it),
// which must stay shorter than the pong wait.
type pongWait struct{ sc *server.Config }

func (p pongWait) String() string {
	if p.sc == nil {
		return ""
	}
	return p.sc.PongWait.String()
}

func (p pongWait) Set(v string) error {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return errBadDuration
	}
	p.sc.PongWait, p.sc.PingPeriod = d, d*9/10
	return nil
}

var errBadDuration = &flagError{"want a positive duration such as 45s"}

type flagError struct{ msg string }

func (e *flagError) Error() string { return e.msg }

// addSecurityFlags adds the flags of TLS, browser origins, per-token limits
// and timeouts (docs/SECURITY.md lists them with their defaults).
func addSecurityFlags(fs *flag.FlagSet, cfg *config, sc *server.Config, getenv func(string) string) {
	fs.StringVar(&cfg.TLSCert, "tls-cert", getenv("DRAFTROOM_TLS_CERT"), "PEM certificate file: serve HTTPS and WSS (with -tls-key; env DRAFTROOM_TLS_CERT)")
	fs.StringVar(&cfg.TLSKey, "tls-key", getenv("DRAFTROOM_TLS_KEY"), "PEM private key file of -tls-cert (env DRAFTROOM_TLS_KEY)")
	origins := (*originList)(&sc.AllowOrigins)
	if v := getenv("DRAFTROOM_ALLOW_ORIGIN"); v != "" {
		origins.Set(v)
	}
	hosts := (*originList)(&sc.AllowHosts)
	if v := getenv("DRAFTROOM_ALLOW_HOST"); v != "" {
		hosts.Set(v)
	}
	fs.Var(hosts, "allow-host", "host name a browser may use to reach this server in open mode, besides IP addresses, localhost and the -addr host (DNS rebinding); repeatable or comma-separated (env DRAFTROOM_ALLOW_HOST)")
	fs.Var(origins, "allow-origin", "browser origin (scheme://host[:port]) allowed to open WebSockets besides the server's own; repeatable or comma-separated (env DRAFTROOM_ALLOW_ORIGIN)")
	fs.Float64Var(&sc.TokenOpsPerSecond, "token-ops-per-sec", sc.TokenOpsPerSecond, "ops per second per token, all its connections together")
	fs.IntVar(&sc.TokenOpsBurst, "token-ops-burst", sc.TokenOpsBurst, "burst of ops per token")
	fs.Float64Var(&sc.TokenMsgsPerSecond, "token-msgs-per-sec", sc.TokenMsgsPerSecond, "messages per second per token, all its connections together")
	fs.IntVar(&sc.TokenMsgsBurst, "token-msgs-burst", sc.TokenMsgsBurst, "burst of messages per token")
	fs.IntVar(&sc.MaxConnsPerToken, "max-conns-per-token", sc.MaxConnsPerToken, "WebSocket connections one token may have open")
	fs.IntVar(&sc.MaxRefusedPerSecond, "max-refused-per-sec", sc.MaxRefusedPerSecond, "rate_limited answers in one second after which a connection is closed")
	fs.DurationVar(&sc.TokenRecheck, "token-recheck", sc.TokenRecheck, "how often open connections' tokens are re-read (revocation on another node, expiry)")
	fs.DurationVar(&sc.HelloWait, "hello-wait", sc.HelloWait, "how long a new WebSocket may stay silent before its hello")
	fs.Var(pongWait{sc}, "pong-wait", "read deadline of a WebSocket: a peer silent (no message, no pong) this long is dropped; pings go every 9/10 of it")
	fs.DurationVar(&sc.WriteWait, "write-wait", sc.WriteWait, "write deadline of one WebSocket write")
	cfg.HTTP = httpTimeouts{defaultHTTPRead, defaultHTTPWrite, defaultHTTPIdle}
	fs.DurationVar(&cfg.HTTP.Read, "http-read-timeout", cfg.HTTP.Read, "time to read a whole HTTP request")
	fs.DurationVar(&cfg.HTTP.Write, "http-write-timeout", cfg.HTTP.Write, "time to write an HTTP response")
	fs.DurationVar(&cfg.HTTP.Idle, "http-idle-timeout", cfg.HTTP.Idle, "idle keep-alive HTTP connections are closed after this")
}

// listenHostName is the host name of a listen address host:port when it is
// a name rather than an IP address or empty (open mode answers to IP
// addresses and localhost anyway): main adds it to the hosts open mode
// answers to.
func listenHostName(addr string) []string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" || net.ParseIP(host) != nil {
		return nil
	}
	return []string{host}
}
