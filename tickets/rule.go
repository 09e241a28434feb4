package tickets

import "time"

// CredentialUse is what a login with a one-time credential may do.
type CredentialUse int

const (
	CredentialRefused CredentialUse = iota
	CredentialStarts                // the first login: it starts the credential's one session
	CredentialJoins                 // the session is live: the login joins it (sftp beside the viewer)
)

// CredentialRule is the one-time credential's rule, in one place: unused, it starts one session
// until it expires; once used, further logins join that session while it is live; after the
// session it is spent, and closing the request revokes it. sessionLive says whether this
// gateway holds the credential's session now. When the use is CredentialRefused, why says why in
// the words a technician is shown.
func CredentialRule(c Credential, now time.Time, sessionLive bool) (use CredentialUse, why string) {
	switch c.State {
	case CredentialRevoked:
		return CredentialRefused, "credential revoked"
	case CredentialSpent:
		return CredentialRefused, "credential already used"
	case CredentialIssued:
		if !now.Before(c.Expires) {
			return CredentialRefused, "credential expired"
		}
		return CredentialStarts, ""
	case CredentialActive:
		if sessionLive {
			return CredentialJoins, ""
		}
		return CredentialRefused, "credential already used"
	}
	return CredentialRefused, "credential in unknown state"
}
