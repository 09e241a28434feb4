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
// fingerprint (never the private key) with its audit event, and returns the .otc file.
func Issue(s Store, codeOrID, technician string, ttl time.Duration, gateways []string, hostKeys []ssh.PublicKey, now time.Time) (*OTC, CredentialEvent, error) {
	if ttl == 0 {
		ttl = DefaultTTL
	}
	if ttl < MinTTL || ttl > MaxTTL {
		return nil, CredentialEvent{}, fmt.Errorf("ttl %s: must be between %s and %s", ttl, MinTTL, MaxTTL)
	}
	signer, keyPEM, err := NewKey("assist one-time credential")
	if err != nil {
		return nil, CredentialEvent{}, fmt.Errorf("credential: %w", err)
	}
	otc := &OTC{
		Gateways:   gateways,
		HostKeys:   hostKeys,
		Technician: technician,
		Expires:    now.Add(ttl).UTC().Truncate(time.Second),
		Key:        keyPEM,
	}
	// Before anything is recorded: a credential is only worth keeping if its file can be read.
	// The request's code is the store's and always survives; any code stands in for it here.
	if otc.Request, err = NormalizeCode(codeOrID); err != nil {
		otc.Request = newCode()
	}
	if err := otc.checkWritten(); err != nil {
		return nil, CredentialEvent{}, fmt.Errorf("issue credential for %s: %w", otc.Request, err)
	}
	issued, err := s.IssueCredential(Issuing{CodeOrID: codeOrID, Technician: technician,
		Fingerprint: ssh.FingerprintSHA256(signer.PublicKey()), Issued: now, Expires: otc.Expires})
	if err != nil {
		return nil, CredentialEvent{}, err
	}
	otc.Request = issued.Credential.RequestCode
	return otc, issued, nil
}
