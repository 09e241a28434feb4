package viewer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/tickets"
)

// Session is a one-time session: an SSH connection made with an .otc's credential, on which
// the desktop channels and SFTP open.
type Session struct {
	*ssh.Client
	OTC *tickets.OTC

	once   sync.Once
	ended  chan struct{}
	mu     sync.Mutex
	reason string
}

// DialOTC connects with the .otc's credential, trying its gateways in order and accepting only
// the host keys it names.
func DialOTC(ctx context.Context, o *tickets.OTC) (*Session, error) {
	signer, err := o.Signer()
	if err != nil {
		return nil, err
	}
	if !o.Expires.IsZero() && time.Now().After(o.Expires) {
		return nil, fmt.Errorf("the one-time file for %s expired at %s: get a new one (assist otc %s)", o.Request, o.Expires.Local().Format(time.DateTime), o.Request)
	}
	cfg := &ssh.ClientConfig{
		User:              tickets.OTCUser(o.Request),
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback:   o.HostKeyCallback(),
		HostKeyAlgorithms: tickets.HostKeyAlgorithms(o.HostKeys),
		Timeout:           15 * time.Second,
	}
	var errs []error
	for _, addr := range o.Gateways {
		s, err := dialSession(ctx, addr, cfg, o)
		if err == nil {
			return s, nil
		}
		var hk *tickets.HostKeyError
		if errors.As(err, &hk) {
			return nil, err // never fall through to another address on an impostor
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

func dialSession(ctx context.Context, addr string, cfg *ssh.ClientConfig, o *tickets.OTC) (*Session, error) {
	c, chans, reqs, err := connect(ctx, addr, cfg)
	if err != nil {
		var hk *tickets.HostKeyError
		var le *loginError
		switch {
		case errors.As(err, &hk):
			return nil, hk
		case errors.As(err, &le):
			return nil, fmt.Errorf("gateway %s refused the one-time credential for %s (used up, expired or revoked?): %w", addr, o.Request, le.err)
		}
		return nil, err
	}
	s := &Session{OTC: o, ended: make(chan struct{})}
	none := make(chan *ssh.Request)
	close(none)
	s.Client = ssh.NewClient(c, chans, none)
	go s.globalRequests(reqs)
	return s, nil
}

// globalRequests hears the gateway say why the session ended. reqs is closed when the
// connection ends, but only after every request that arrived before was delivered: ending
// the session here, not on Wait, keeps the gateway's reason from losing a race with the close
// that follows it.
func (s *Session) globalRequests(reqs <-chan *ssh.Request) {
	defer s.end("the connection to the gateway closed")
	for r := range reqs {
		if r.Type == tickets.EndedGlobal {
			var m tickets.EndedMsg
			if ssh.Unmarshal(r.Payload, &m) == nil {
				s.end(m.Reason)
			}
		}
		if r.WantReply {
			r.Reply(false, nil)
		}
	}
}

func (s *Session) end(reason string) {
	s.once.Do(func() {
		s.mu.Lock()
		s.reason = reason
		s.mu.Unlock()
		close(s.ended)
	})
}

// Ended is closed when the session ends.
func (s *Session) Ended() <-chan struct{} { return s.ended }

// EndReason says why the session ended ("" while it lasts).
func (s *Session) EndReason() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reason
}

// ChannelError explains a channel the gateway or agent would not open.
func ChannelError(typ string, err error) error {
	var oce *ssh.OpenChannelError
	if errors.As(err, &oce) {
		return fmt.Errorf("%s refused: %s", typ, oce.Message)
	}
	return fmt.Errorf("open %s: %w", typ, err)
}
