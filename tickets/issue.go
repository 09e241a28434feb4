package tickets

import (
	"fmt"
	"time"

	"golang.org/x/crypto/ssh"
)

// Credential lifetimes.
const (
	DefaultTTL = 15 * time.Minute
	MinTTL     = time.Minute
	MaxTTL     = 8 * time.Hour
)

// Issue mints a one-time credential for technician on the open request codeOrID, records its
// fingerprint (never the private key) and an audit event, and returns the .otc file.
func Issue(s Store, codeOrID, technician string, ttl time.Duration, gateways []string, hostKeys []ssh.PublicKey, now time.Time) (*OTC, Credential, error) {
	if ttl == 0 {
		ttl = DefaultTTL
	}
	if ttl < MinTTL || ttl > MaxTTL {
		return nil, Credential{}, fmt.Errorf("ttl %s: must be between %s and %s", ttl, MinTTL, MaxTTL)
	}
	req, err := s.Request(codeOrID)
	if err != nil {
		return nil, Credential{}, err
	}
	if !req.Open() {
		return nil, Credential{}, fmt.Errorf("request %s is closed", req.Code)
	}
	signer, keyPEM, err := NewKey("assist one-time credential for " + req.Code)
	if err != nil {
		return nil, Credential{}, fmt.Errorf("credential: %w", err)
	}
	sshPub := signer.PublicKey()
	otc := &OTC{
		Gateways:   gateways,
		HostKeys:   hostKeys,
		Request:    req.Code,
		Technician: technician,
		Expires:    now.Add(ttl).UTC().Truncate(time.Second),
		Key:        keyPEM,
	}
	// Before anything is recorded: a credential is only worth keeping if its file can be read.
	if err := otc.checkWritten(); err != nil {
		return nil, Credential{}, fmt.Errorf("issue credential for %s: %w", req.Code, err)
	}
	cred := Credential{
		ID:          newID(now),
		RequestID:   req.ID,
		RequestCode: req.Code,
		Technician:  technician,
		Fingerprint: ssh.FingerprintSHA256(sshPub),
		Issued:      now.UTC(),
		Expires:     otc.Expires,
		State:       CredentialIssued,
	}
	if err := s.AddCredential(cred); err != nil {
		return nil, Credential{}, fmt.Errorf("record credential: %w", err)
	}
	if _, err := s.AppendEvent(Event{Kind: "credential.issued", Actor: technician, Request: req.Code, Attrs: map[string]string{
		"credential": cred.ID, "fingerprint": cred.Fingerprint, "expires": cred.Expires.Format(time.RFC3339),
	}}); err != nil {
		return nil, Credential{}, err
	}
	return otc, cred, nil
}
