package sshd

import (
	"fmt"
	"slices"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/tickets"
)

// CloseRequest closes a request: its one-time credentials are revoked and their sessions ended,
// its agent is told and disconnected.
func (s *Server) CloseRequest(codeOrID, by string) (tickets.Request, error) {
	now := s.cfg.Now().UTC()
	r, err := s.cfg.Store.UpdateRequest(codeOrID, func(r *tickets.Request) error {
		if !r.Open() {
			return fmt.Errorf("request %s is already closed", r.Code)
		}
		r.State, r.Closed, r.ClosedBy = tickets.StateClosed, now, by
		return nil
	})
	if err != nil {
		return r, err
	}
	s.audit(tickets.Event{Kind: "request.closed", Actor: by, Request: r.Code})
	s.revokeCredentials(r, by)
	if ac := s.agentFor(r.ID); ac != nil {
		ac.sc.SendRequest(tickets.ClosedGlobal, false, ssh.Marshal(tickets.ClosedMsg{By: by, Reason: "closed by the help desk"}))
		ac.sc.Close()
	}
	return r, nil
}

func (s *Server) revokeCredentials(r tickets.Request, by string) {
	creds, err := s.cfg.Store.CredentialsForRequest(r.ID)
	if err != nil {
		s.log.Error("list credentials to revoke", "request", r.Code, "err", err)
	}
	for _, c := range creds {
		if c.State != tickets.CredentialIssued && c.State != tickets.CredentialActive {
			continue
		}
		if ss := s.liveSession(c.Fingerprint); ss != nil {
			ss.end("the request was closed by "+by, tickets.CredentialRevoked)
		} else {
			s.cfg.Store.UpdateCredential(c.Fingerprint, func(c *tickets.Credential) error {
				c.State, c.Ended = tickets.CredentialRevoked, s.cfg.Now().UTC()
				return nil
			})
		}
		s.audit(tickets.Event{Kind: "credential.revoked", Actor: by, Request: r.Code, Attrs: map[string]string{"credential": c.ID}})
	}
}

// IssueOTC mints a one-time connection file for technician. reached is the gateway address the
// technician used, written into the file when the gateway has no configured addresses.
func (s *Server) IssueOTC(codeOrID, technician string, ttl time.Duration, reached string) (*tickets.OTC, tickets.Credential, error) {
	addrs := s.cfg.Addresses
	if len(addrs) == 0 {
		addrs = []string{reached}
	}
	keys := make([]ssh.PublicKey, 0, len(s.cfg.HostKeys))
	for _, k := range s.cfg.HostKeys {
		keys = append(keys, k.PublicKey())
	}
	return tickets.Issue(s.cfg.Store, codeOrID, technician, ttl, addrs, keys, s.cfg.Now())
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
