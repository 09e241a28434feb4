package viewer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/tickets"
)

// Session is a one-time session: an SSH connection made with an .otc's credential, on which
// the desktop channels and SFTP open.
type Session struct {
	*ssh.Client
	OTC *tickets.OTC

	once    sync.Once
	ended   chan struct{}
	mu      sync.Mutex
	reason  string
	grant   protocol.Grant
	granted chan struct{} // closed and replaced when the grant changes
	away    string        // why the session waits for the person's agent; "" while it is there
	// An end the gateway said is near (a time limit, or the technician idle): when, on this
	// computer's clock (zero: none), and why.
	limitEnds time.Time
	limitWhy  string
	limited   chan struct{} // closed and replaced when the limit changes
}

// DialOTC connects with the .otc's credential, trying its gateways in order and accepting only
// the host keys it names.
func DialOTC(ctx context.Context, o *tickets.OTC) (*Session, error) {
	signer, err := o.Signer()
	if err != nil {
		return nil, err
	}
	if err := checkExpiry(o); err != nil {
		return nil, err
	}
	cfg := &ssh.ClientConfig{
		User:              protocol.OTCUser(o.Request),
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

// checkExpiry refuses an .otc whose credential expired: the gateway would only say "permission
// denied".
func checkExpiry(o *tickets.OTC) error {
	if o.Expired(time.Now()) {
		return fmt.Errorf("the one-time file for %s expired at %s: get a new one (assist otc %s)", o.Request, o.Expires.Local().Format(time.DateTime), o.Request)
	}
	return nil
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
	s := &Session{OTC: o, ended: make(chan struct{}), granted: make(chan struct{}), limited: make(chan struct{})}
	none := make(chan *ssh.Request)
	close(none)
	s.Client = ssh.NewClient(c, chans, none)
	go s.globalRequests(reqs)
	return s, nil
}

// globalRequests hears the gateway say what the person allows and why the session ended. reqs
// is closed when the connection ends, but only after every request that arrived before was
// delivered: ending the session here, not on Wait, keeps the gateway's reason from losing a
// race with the close that follows it.
func (s *Session) globalRequests(reqs <-chan *ssh.Request) {
	defer s.end("the connection to the gateway closed")
	for r := range reqs {
		switch r.Type {
		case protocol.EndedGlobal:
			var m protocol.EndedMsg
			if ssh.Unmarshal(r.Payload, &m) == nil {
				s.end(m.Reason)
			}
		case protocol.GrantedGlobal:
			var m protocol.GrantMsg
			if ssh.Unmarshal(r.Payload, &m) == nil {
				s.setGrant(protocol.Grant(m.Grant))
			}
		case protocol.AwayGlobal:
			var m protocol.EndedMsg
			if ssh.Unmarshal(r.Payload, &m) == nil {
				s.setAway(m.Reason)
			}
		case protocol.BackGlobal:
			s.setAway("")
		case protocol.LimitGlobal:
			var m protocol.LimitMsg
			if ssh.Unmarshal(r.Payload, &m) == nil {
				s.setLimit(m)
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

func (s *Session) setGrant(g protocol.Grant) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g != s.grant {
		s.grant = g
		close(s.granted)
		s.granted = make(chan struct{})
	}
}

// Grant is what the person allows, as the gateway last said (0 before they answered, or from a
// gateway that does not say), and a channel closed when that changes.
func (s *Session) Grant() (protocol.Grant, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.grant, s.granted
}

func (s *Session) setLimit(m protocol.LimitMsg) {
	var ends time.Time
	if m.LeftMillis > 0 {
		ends = time.Now().Add(time.Duration(m.LeftMillis) * time.Millisecond)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limitEnds, s.limitWhy = ends, tickets.CleanLine(m.Why)
	close(s.limited)
	s.limited = make(chan struct{})
}

// Limit is when the gateway last said it will end the session and why (a zero time: no end is
// near), and a channel closed when that changes.
func (s *Session) Limit() (ends time.Time, why string, changed <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limitEnds, s.limitWhy, s.limited
}

func (s *Session) setAway(reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.away = reason
}

// Away says, while the person's agent has lost its connection and the session waits for it to
// come back, why in the gateway's words; "" otherwise. The desktop channels close when the
// agent goes; opened again, the gateway holds them until it is back or the session ends.
func (s *Session) Away() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.away
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
