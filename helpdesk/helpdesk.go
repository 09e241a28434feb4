// Package helpdesk is the gateway's web face. A technician signs in with a password, sees the
// open requests, opens a request's Assistance Request Connect screen, downloads a one-time
// connection file (.otc) for it, closes it, and downloads the Remote Connect Software (assist).
//
// Pages are html/template with plain CSS and one small script, all embedded. The package reaches
// the gateway only through the Gateway interface, so it never imports sshd.
package helpdesk

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/assistkit/assist/tickets"
)

// Gateway is what the web screens need from the running SSH gateway (*sshd.Server has it).
type Gateway interface {
	// Online reports whether the request's agent is connected now.
	Online(requestID string) bool
	// CloseRequest closes a request, revoking its credentials and disconnecting its agent.
	CloseRequest(codeOrID, by string) (tickets.Request, error)
	// IssueOTC mints a one-time connection file; reached is the SSH address the technician
	// can reach, used when the gateway advertises none.
	IssueOTC(codeOrID, technician string, ttl time.Duration, reached string) (*tickets.OTC, tickets.Credential, error)
	// WatchRequests streams the requests that change from now on, until ctx ends.
	WatchRequests(ctx context.Context) <-chan tickets.RequestChange
	// HandOver claims, assigns or releases a request, auditing it (or its refusal).
	HandOver(h tickets.Handover) (tickets.Handed, error)
	// AddNote adds a technician's note to a request, auditing it.
	AddNote(n tickets.Noting) (tickets.Noted, error)
}

// Config configures the web screens; zero values take the defaults shown.
type Config struct {
	Store   tickets.Store
	Gateway Gateway
	Logger  *slog.Logger
	// SSHAddr is the SSH listener's host:port. A technician's .otc file names this address, or,
	// when it listens on all interfaces, the address the technician's browser reached this
	// server on with the SSH port (the gateway's --advertise addresses win over both).
	SSHAddr string
	// Downloads is the directory holding assist-OS-ARCH[.exe] built by make dist; empty means
	// none are offered.
	Downloads string
	// Help is the public /help page's: the help desk's name and what stamps its agents.
	Help Help
	// Secure marks the cookies Secure (with the __Host- prefix) and sends HSTS: set it when the
	// browser reaches this server over HTTPS.
	Secure bool
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is believed: a request whose
	// TCP peer is in one of them is taken to come from the address the header names (see
	// forwardedFor). Empty: the header is ignored and the TCP peer is the browser.
	TrustedProxies []netip.Prefix
	// AuthLog receives a line for every web sign-in, in the gateway's auth-log style (nil: none).
	AuthLog AuthLog
	// Recordings lists a request's session recordings on its connect screen, for the roles
	// that may read them (nil: none shown).
	Recordings Recordings
	Now        func() time.Time

	SessionIdle time.Duration // 30m without a request ends a session
	SessionMax  time.Duration // 12h after sign-in a session ends regardless
	OTCTTL      time.Duration // tickets.DefaultTTL: how long a downloaded .otc may start a session
}

func (c *Config) setDefaults() error {
	if c.Store == nil {
		return errors.New("helpdesk: no store")
	}
	if c.Gateway == nil {
		return errors.New("helpdesk: no gateway")
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.AuthLog == nil {
		c.AuthLog = noAuthLog{}
	}
	if c.SessionIdle == 0 {
		c.SessionIdle = 30 * time.Minute
	}
	if c.SessionMax == 0 {
		c.SessionMax = 12 * time.Hour
	}
	if c.OTCTTL == 0 {
		c.OTCTTL = tickets.DefaultTTL
	}
	return nil
}

// Server serves the help desk. It is an http.Handler; the caller owns the http.Server (TLS,
// timeouts, shutdown).
type Server struct {
	cfg       Config
	log       *slog.Logger
	pages     *pages
	sessions  *sessions
	byAccount *throttle // keyed by account and address: one address cannot lock a name out for all
	byAddr    *throttle
	checks    chan struct{} // bounds concurrent argon2id checks (64 MiB each)
	decoy     decoyHash
	downloads *downloads
	handler   http.Handler
}

// New checks cfg and returns the help desk.
func New(cfg Config) (*Server, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	p, err := parsePages()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:       cfg,
		log:       cfg.Logger,
		pages:     p,
		sessions:  newSessions(cfg.Now, cfg.SessionIdle, cfg.SessionMax),
		byAccount: newThrottle(cfg.Now, accountFreeFailures),
		byAddr:    newThrottle(cfg.Now, addrFreeFailures),
		checks:    make(chan struct{}, 2),
		downloads: newDownloads(cfg.Downloads),
	}
	s.handler = s.routes()
	return s, nil
}

// ServeHTTP serves one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }
