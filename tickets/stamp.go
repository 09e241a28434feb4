package tickets

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// Stamp is what a gateway's /help page writes into the assist-agent it hands out: which help
// desk the agent belongs to, where its gateway answers and the gateway's host key, which the
// agent pins. It rides as a trailer at the end of the executable, signed by that host key over
// the stamp and every byte of the executable before it. docs/stamp.md has the format and what
// the signature does and does not prove.
type Stamp struct {
	HelpDesk string        // the help desk's name, as the person reads it
	Gateways []string      // host:port, tried in order
	HostKey  ssh.PublicKey // the gateway's; it signed the stamp
	Issued   time.Time
}

const (
	stampMagic   = "\nassist-stamp-1\n" // the last 16 bytes of a stamped executable
	stampFooter  = 8 + len(stampMagic)  // body length, signature length, magic
	stampContext = "assist-agent stamp 1\x00"
	maxStampBody = 4 << 10
	maxStampSig  = 1 << 10
	maxGateways  = 8
)

// ErrNoStamp is ReadStamp's answer for an executable that carries no stamp.
var ErrNoStamp = errors.New("no stamp")

// StampError says why a stamp was refused: it is damaged, or was changed after the gateway
// signed it, or the executable it is on was.
type StampError struct{ Reason string }

func (e *StampError) Error() string { return "the stamp does not verify: " + e.Reason }

func stampErrorf(format string, args ...any) error {
	return &StampError{fmt.Sprintf(format, args...)}
}

// SealStamp returns the trailer that, appended to the executable read from exe, stamps it with
// s, signed by signer, which must hold s.HostKey.
func SealStamp(exe io.Reader, s Stamp, signer ssh.Signer) ([]byte, error) {
	if !bytes.Equal(signer.PublicKey().Marshal(), s.HostKey.Marshal()) {
		return nil, errors.New("seal stamp: the signer does not hold the stamp's host key")
	}
	body, err := s.encode()
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	if _, err := io.Copy(h, exe); err != nil {
		return nil, fmt.Errorf("seal stamp: read the executable: %w", err)
	}
	sig, err := signer.Sign(rand.Reader, stampSigned(h.Sum(nil), body))
	if err != nil {
		return nil, fmt.Errorf("seal stamp: %w", err)
	}
	blob := ssh.Marshal(sig)
	out := append(body, blob...)
	out = binary.BigEndian.AppendUint32(out, uint32(len(body)))
	out = binary.BigEndian.AppendUint32(out, uint32(len(blob)))
	return append(out, stampMagic...), nil
}

// stampSigned is what the host key signs: a context string, the executable's SHA-256, the body.
func stampSigned(digest, body []byte) []byte {
	return append(append([]byte(stampContext), digest...), body...)
}

// ReadStamp reads the stamp at the end of the executable f, size bytes long, and checks its
// signature against the host key it names. ErrNoStamp: there is none; *StampError: there is
// one and it does not verify.
func ReadStamp(f io.ReaderAt, size int64) (Stamp, error) {
	if size < int64(stampFooter) {
		return Stamp{}, ErrNoStamp
	}
	var foot [stampFooter]byte
	if _, err := f.ReadAt(foot[:], size-int64(stampFooter)); err != nil {
		return Stamp{}, fmt.Errorf("read stamp: %w", err)
	}
	if string(foot[8:]) != stampMagic {
		return Stamp{}, ErrNoStamp
	}
	bodyLen, sigLen := int64(binary.BigEndian.Uint32(foot[:4])), int64(binary.BigEndian.Uint32(foot[4:8]))
	if bodyLen > maxStampBody || sigLen > maxStampSig || bodyLen+sigLen > size-int64(stampFooter) {
		return Stamp{}, stampErrorf("its lengths (%d, %d) do not fit", bodyLen, sigLen)
	}
	exeLen := size - int64(stampFooter) - bodyLen - sigLen
	trailer := make([]byte, bodyLen+sigLen)
	if _, err := f.ReadAt(trailer, exeLen); err != nil {
		return Stamp{}, fmt.Errorf("read stamp: %w", err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, exeLen)); err != nil {
		return Stamp{}, fmt.Errorf("read stamp: %w", err)
	}
	return verifyStamp(trailer[:bodyLen], trailer[bodyLen:], h.Sum(nil))
}

// verifyStamp parses a stamp's body and checks sig over it and digest, the SHA-256 of the
// executable it was appended to.
func verifyStamp(body, sig, digest []byte) (Stamp, error) {
	s, err := parseStampBody(body)
	if err != nil {
		return Stamp{}, err
	}
	var sg ssh.Signature
	if err := ssh.Unmarshal(sig, &sg); err != nil {
		return Stamp{}, stampErrorf("its signature is malformed")
	}
	if err := s.HostKey.Verify(stampSigned(digest, body), &sg); err != nil {
		return Stamp{}, stampErrorf("the signature does not match the stamp and the program it is on (%s signed something else)", ssh.FingerprintSHA256(s.HostKey))
	}
	return s, nil
}

// The body is lines of "key value", in this order, each key once but gateway (1 to 8 times):
//
//	assist-stamp 1
//	help-desk Example IT
//	gateway help.example.org:2222
//	host-key ssh-ed25519 AAAA…
//	issued 2026-12-01T23:00:00Z
func (s Stamp) encode() ([]byte, error) {
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("seal stamp: %w", err)
	}
	var b strings.Builder
	b.WriteString("assist-stamp 1\n")
	b.WriteString("help-desk " + s.HelpDesk + "\n")
	for _, g := range s.Gateways {
		b.WriteString("gateway " + g + "\n")
	}
	b.WriteString("host-key " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.HostKey))) + "\n")
	b.WriteString("issued " + s.Issued.UTC().Format(time.RFC3339) + "\n")
	return []byte(b.String()), nil
}

// check holds a stamp to what its parser accepts, so a gateway never signs what agents refuse.
func (s Stamp) check() error {
	if s.HelpDesk == "" || len(s.HelpDesk) > MaxNameLen || cleanLine(s.HelpDesk) != s.HelpDesk {
		return fmt.Errorf("help desk name %q: 1 to %d printable bytes", s.HelpDesk, MaxNameLen)
	}
	if len(s.Gateways) == 0 || len(s.Gateways) > maxGateways {
		return fmt.Errorf("%d gateway addresses, want 1 to %d", len(s.Gateways), maxGateways)
	}
	for _, g := range s.Gateways {
		if err := checkHostPort(g); err != nil {
			return err
		}
	}
	if s.HostKey == nil {
		return errors.New("no host key")
	}
	if err := checkFileTime(s.Issued); err != nil {
		return fmt.Errorf("issued %v: %w", s.Issued, err)
	}
	return nil
}

func checkHostPort(hp string) error {
	host, port, err := net.SplitHostPort(hp)
	if err != nil || host == "" || len(hp) > 255 || cleanLine(hp) != hp || strings.ContainsAny(hp, " \t") {
		return fmt.Errorf("gateway address %q: want host:port", hp)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("gateway address %q: port %q", hp, port)
	}
	return nil
}

func parseStampBody(body []byte) (Stamp, error) {
	var s Stamp
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 512), maxStampBody)
	var lines [][2]string
	for sc.Scan() {
		key, value, _ := strings.Cut(sc.Text(), " ")
		lines = append(lines, [2]string{key, value})
	}
	if !bytes.HasSuffix(body, []byte("\n")) || len(lines) < 5 {
		return s, stampErrorf("it is cut short")
	}
	if lines[0] != [2]string{"assist-stamp", "1"} {
		return s, stampErrorf("it is not an assist stamp of version 1")
	}
	want := func(i int, key string) (string, error) {
		if lines[i][0] != key {
			return "", stampErrorf("line %d is %q, want %s", i+1, lines[i][0], key)
		}
		return lines[i][1], nil
	}
	var err error
	if s.HelpDesk, err = want(1, "help-desk"); err != nil {
		return s, err
	}
	i := 2
	for ; i < len(lines) && lines[i][0] == "gateway"; i++ {
		s.Gateways = append(s.Gateways, lines[i][1])
	}
	if len(lines) != i+2 {
		return s, stampErrorf("it has %d lines; a stamp with %d gateways has %d", len(lines), len(s.Gateways), len(s.Gateways)+4)
	}
	key, err := want(i, "host-key")
	if err != nil {
		return s, err
	}
	if s.HostKey, _, _, _, err = ssh.ParseAuthorizedKey([]byte(key)); err != nil {
		return s, stampErrorf("its host key does not parse")
	}
	issued, err := want(i+1, "issued")
	if err != nil {
		return s, err
	}
	if s.Issued, err = parseFileTime(issued); err != nil {
		return s, stampErrorf("its time %q does not parse", issued)
	}
	if err := s.check(); err != nil {
		return s, stampErrorf("%v", err)
	}
	return s, nil
}
