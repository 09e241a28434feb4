package authlog

import (
	"fmt"

	"golang.org/x/crypto/ssh"
)

// keyInfo is OpenSSH's auth_method_info for publickey (auth2-pubkey.c
// format_key): "ED25519 SHA256:…", and for a certificate
// "ED25519-CERT SHA256:… ID key-id (serial N) CA ED25519 SHA256:…".
// As in OpenSSH, a certificate's fingerprint is that of its plain key.
func keyInfo(key ssh.PublicKey) string {
	if cert, ok := key.(*ssh.Certificate); ok && cert.Key != nil && cert.SignatureKey != nil {
		return fmt.Sprintf("%s %s ID %s (serial %d) CA %s %s",
			keyType(cert.Type()), ssh.FingerprintSHA256(cert.Key),
			escapeField(cert.KeyId), cert.Serial,
			keyType(cert.SignatureKey.Type()), ssh.FingerprintSHA256(cert.SignatureKey))
	}
	return keyType(key.Type()) + " " + ssh.FingerprintSHA256(key)
}

// keyTypes maps SSH wire key type names to OpenSSH's sshkey_type names.
var keyTypes = map[string]string{
	ssh.KeyAlgoED25519:    "ED25519",
	ssh.KeyAlgoRSA:        "RSA",
	ssh.KeyAlgoDSA:        "DSA",
	ssh.KeyAlgoECDSA256:   "ECDSA",
	ssh.KeyAlgoECDSA384:   "ECDSA",
	ssh.KeyAlgoECDSA521:   "ECDSA",
	ssh.KeyAlgoSKECDSA256: "ECDSA-SK",
	ssh.KeyAlgoSKED25519:  "ED25519-SK",

	ssh.CertAlgoED25519v01:    "ED25519-CERT",
	ssh.CertAlgoRSAv01:        "RSA-CERT",
	ssh.CertAlgoDSAv01:        "DSA-CERT",
	ssh.CertAlgoECDSA256v01:   "ECDSA-CERT",
	ssh.CertAlgoECDSA384v01:   "ECDSA-CERT",
	ssh.CertAlgoECDSA521v01:   "ECDSA-CERT",
	ssh.CertAlgoSKECDSA256v01: "ECDSA-SK-CERT",
	ssh.CertAlgoSKED25519v01:  "ED25519-SK-CERT",
}

// keyType returns OpenSSH's short name for a key type; an unknown one is
// shown escaped as it came.
func keyType(t string) string {
	if s, ok := keyTypes[t]; ok {
		return s
	}
	return escapeField(t)
}
