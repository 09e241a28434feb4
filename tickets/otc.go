package tickets

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// OTC is a one-time connection file: where the gateway is, how to recognise it, which request it
// opens, and the credential (a private key the gateway does not keep). docs/otc.md describes the
// format; Parse and Marshal are its only reader and writer.
type OTC struct {
	Gateways   []string        // host:port, tried in order
	HostKeys   []ssh.PublicKey // the gateway's host keys; any one must match
	Request    string          // request code
	Technician string          // the account the credential was issued to
	Expires    time.Time
	Key        []byte // OpenSSH PEM private key
}

const (
	otcMagic   = "assist-otc"
	otcVersion = 1
	// MaxOTCSize bounds what Parse reads; a real file is about 1 KiB.
	MaxOTCSize = 16 << 10
	pemBegin   = "-----BEGIN OPENSSH PRIVATE KEY-----"
	pemEnd     = "-----END OPENSSH PRIVATE KEY-----"
)

// Expired reports whether the credential can no longer start a session at now.
func (o *OTC) Expired(now time.Time) bool { return !o.Expires.IsZero() && now.After(o.Expires) }

// Signer returns the credential as an SSH signer.
func (o *OTC) Signer() (ssh.Signer, error) {
	s, err := ssh.ParsePrivateKey(o.Key)
	if err != nil {
		return nil, fmt.Errorf("otc credential: %w", err)
	}
	return s, nil
}

// HostKeyCallback accepts the gateway only if it shows one of the file's host keys.
func (o *OTC) HostKeyCallback() ssh.HostKeyCallback {
	return PinnedHostKeys(o.HostKeys)
}

// Marshal writes the file.
func (o *OTC) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString("# assist one-time connection file. Open it with: assist connect FILE.otc\n")
	b.WriteString("# It opens one person's desktop until it expires. Keep it private; do not forward it.\n")
	fmt.Fprintf(&b, "%s: %d\n", otcMagic, otcVersion)
	for _, g := range o.Gateways {
		fmt.Fprintf(&b, "gateway: %s\n", g)
	}
	for _, k := range o.HostKeys {
		fmt.Fprintf(&b, "host-key: %s\n", bytes.TrimSpace(ssh.MarshalAuthorizedKey(k)))
	}
	fmt.Fprintf(&b, "request: %s\n", o.Request)
	fmt.Fprintf(&b, "technician: %s\n", o.Technician)
	// RFC3339Nano writes whole seconds (all Issue makes) exactly as RFC3339 does, and keeps the
	// fraction of a parsed time that had one, so Marshal and ParseOTC agree on every value.
	fmt.Fprintf(&b, "expires: %s\n", o.Expires.UTC().Format(time.RFC3339Nano))
	b.Write(bytes.TrimSpace(o.Key))
	b.WriteByte('\n')
	return b.Bytes()
}

// OTCError names the line of an .otc file that could not be read.
type OTCError struct {
	Line   int
	Reason string
}

func (e *OTCError) Error() string {
	if e.Line == 0 {
		return "otc file: " + e.Reason
	}
	return fmt.Sprintf("otc file line %d: %s", e.Line, e.Reason)
}

// ParseOTC reads an .otc file strictly: an unknown version, an unknown or repeated field, a
// missing field, a malformed value or a truncated key is an *OTCError naming the problem.
func ParseOTC(data []byte) (*OTC, error) {
	if len(data) > MaxOTCSize {
		return nil, &OTCError{0, fmt.Sprintf("%d bytes, larger than any .otc file (%d bytes at most)", len(data), MaxOTCSize)}
	}
	o := &OTC{}
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), MaxOTCSize)
	line, inKey, versionSeen, keyDone := 0, false, false, false
	var key bytes.Buffer
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		switch {
		case keyDone:
			if strings.TrimSpace(text) != "" {
				return nil, &OTCError{line, "text after the private key"}
			}
		case inKey:
			key.WriteString(text + "\n")
			if text == pemEnd {
				inKey, keyDone = false, true
			}
		case text == "" || strings.HasPrefix(text, "#"):
		case text == pemBegin:
			if !versionSeen {
				return nil, &OTCError{line, "private key before the header"}
			}
			inKey = true
			key.WriteString(text + "\n")
		default:
			name, value, ok := strings.Cut(text, ": ")
			if !ok {
				return nil, &OTCError{line, fmt.Sprintf("want \"name: value\", got %q", truncate(text, 40))}
			}
			if !versionSeen {
				if name != otcMagic {
					return nil, &OTCError{line, "not an assist .otc file (it must start with \"assist-otc: 1\")"}
				}
				if value != strconv.Itoa(otcVersion) {
					return nil, &OTCError{line, fmt.Sprintf("version %q; this assist reads version %d (a newer assist may read it)", truncate(value, 10), otcVersion)}
				}
				versionSeen = true
				continue
			}
			if err := o.setField(name, value, seen); err != nil {
				return nil, &OTCError{line, err.Error()}
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &OTCError{line, err.Error()}
	}
	if inKey {
		return nil, &OTCError{line, "private key is truncated (no END line)"}
	}
	if err := o.complete(seen, key.Bytes()); err != nil {
		return nil, &OTCError{0, err.Error()}
	}
	return o, nil
}

func (o *OTC) setField(name, value string, seen map[string]bool) error {
	repeatable := name == "gateway" || name == "host-key"
	if seen[name] && !repeatable {
		return fmt.Errorf("%s given twice", name)
	}
	seen[name] = true
	switch name {
	case "gateway":
		// cleanLine: an address has no spaces or control characters, and a client prints it.
		if _, _, err := net.SplitHostPort(value); err != nil || len(value) > 260 || cleanLine(value) != value || strings.Contains(value, " ") {
			return fmt.Errorf("gateway %q: want host:port", truncate(value, 40))
		}
		o.Gateways = append(o.Gateways, value)
	case "host-key":
		k, _, _, rest, err := ssh.ParseAuthorizedKey([]byte(value))
		if err != nil || len(bytes.TrimSpace(rest)) > 0 {
			return fmt.Errorf("host-key: not a public key line like \"ssh-ed25519 AAAA…\"")
		}
		o.HostKeys = append(o.HostKeys, k)
	case "request":
		code, err := NormalizeCode(value)
		if err != nil {
			return err
		}
		o.Request = code
	case "technician":
		if value == "" || len(value) > 64 || cleanLine(value) != value {
			return fmt.Errorf("technician %q: not an account name", truncate(value, 40))
		}
		o.Technician = value
	case "expires":
		t, err := parseFileTime(value)
		if err != nil {
			return fmt.Errorf("expires %q: want a time like 2026-11-24T10:15:00Z (%v)", truncate(value, 40), err)
		}
		o.Expires = t
	default:
		return fmt.Errorf("unknown field %q", truncate(name, 40))
	}
	return nil
}

func (o *OTC) complete(seen map[string]bool, key []byte) error {
	for _, f := range []string{"gateway", "host-key", "request", "technician", "expires"} {
		if !seen[f] {
			return fmt.Errorf("missing field %q", f)
		}
	}
	if len(key) == 0 {
		return errors.New("missing private key")
	}
	if _, err := ssh.ParsePrivateKey(key); err != nil {
		return fmt.Errorf("private key: %v", err)
	}
	o.Key = key
	return nil
}

// checkWritten reports whether o survives Marshal and ParseOTC unchanged, so that a value with a
// line break (a gateway address, a technician name) can neither make an unreadable file nor slip
// in a field of its own, such as another host key.
func (o *OTC) checkWritten() error {
	p, err := ParseOTC(o.Marshal())
	if err != nil {
		return err
	}
	same := slices.Equal(p.Gateways, o.Gateways) && len(p.HostKeys) == len(o.HostKeys) &&
		p.Request == o.Request && p.Technician == o.Technician && p.Expires.Equal(o.Expires) &&
		bytes.Equal(bytes.TrimSpace(p.Key), bytes.TrimSpace(o.Key))
	for i := 0; same && i < len(o.HostKeys); i++ {
		same = bytes.Equal(p.HostKeys[i].Marshal(), o.HostKeys[i].Marshal())
	}
	if !same {
		return errors.New("otc file: a value does not survive being written (a line break in an address or name?)")
	}
	return nil
}
