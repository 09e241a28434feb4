package tickets

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"strings"

	"golang.org/x/crypto/ssh"
)

// NewKey makes an ed25519 key: the signer, and the private key in OpenSSH's PEM format, with
// comment. Gateway host keys, agent keys and one-time credentials are all made here.
func NewKey(comment string) (ssh.Signer, []byte, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return nil, nil, fmt.Errorf("encode key: %w", err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, nil, fmt.Errorf("encode key: %w", err)
	}
	return s, pem.EncodeToMemory(block), nil
}

// PinnedHostKeys accepts a server only if it shows one of keys.
func PinnedHostKeys(keys []ssh.PublicKey) ssh.HostKeyCallback {
	return func(host string, _ net.Addr, got ssh.PublicKey) error {
		for _, k := range keys {
			if bytes.Equal(k.Marshal(), got.Marshal()) {
				return nil
			}
		}
		return &HostKeyError{Host: host, Got: ssh.FingerprintSHA256(got)}
	}
}

// HostKeyAlgorithms names the pinned keys' algorithms, so that a gateway with several host keys
// shows one the client can check (RSA keys sign with SHA-2).
func HostKeyAlgorithms(keys []ssh.PublicKey) []string {
	var algos []string
	for _, k := range keys {
		if k.Type() == ssh.KeyAlgoRSA {
			algos = append(algos, ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256)
			continue
		}
		algos = append(algos, k.Type())
	}
	return algos
}

// HostKeyError says the gateway showed a key that was not pinned.
type HostKeyError struct {
	Host string
	Got  string
}

func (e *HostKeyError) Error() string {
	return fmt.Sprintf("gateway %s presented host key %s, which is not the pinned key: refusing to connect (someone may be impersonating the gateway, or its key changed)", e.Host, e.Got)
}

// ParseKeyArg reads a public key given as a line ("ssh-ed25519 AAAA…") or as a file holding one.
func ParseKeyArg(v string) (ssh.PublicKey, error) {
	data := []byte(v)
	if !isKeyLine(v) {
		var err error
		if data, err = os.ReadFile(v); err != nil {
			return nil, fmt.Errorf("gateway key: %q is neither a key line nor a readable file: %w", v, err)
		}
	}
	k, _, _, _, err := ssh.ParseAuthorizedKey(data)
	if err != nil {
		return nil, fmt.Errorf("gateway key: not a public key line like \"ssh-ed25519 AAAA…\": %w", err)
	}
	return k, nil
}

// isKeyLine tells a key line from a file name by the algorithm it starts with.
func isKeyLine(v string) bool {
	v = strings.TrimSpace(v)
	return strings.HasPrefix(v, "ssh-") || strings.HasPrefix(v, "ecdsa-")
}
