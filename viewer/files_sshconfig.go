package viewer

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/tickets"
)

// SSHConfig is what WriteSSHConfig wrote: an OpenSSH client configuration that reaches the
// person's files through the gateway with a one-time credential, for sftp and scp.
type SSHConfig struct {
	Dir        string // absolute
	Config     string // Dir/config: the Host block(s)
	Key        string // Dir/key: the credential, OpenSSH format, 0600
	KnownHosts string // Dir/known_hosts: the gateway's pinned keys
	Alias      string // the Host name to give sftp and scp
}

// SSHConfigAlias is the Host name WriteSSHConfig uses for code, in lowercase, easy to type;
// the Host line also matches the code as written in capitals, since ssh matches case-sensitively.
func SSHConfigAlias(code string) string { return "assist-" + strings.ToLower(code) }

// WriteSSHConfig writes dir/key, dir/known_hosts and dir/config for o (dir is created 0700).
// The config names everything by absolute path and switches off whatever would make OpenSSH
// try other keys, agents or hosts: the credential only works for this one request anyway, and a
// failed extra key counts against the gateway's attempt limit.
func WriteSSHConfig(dir string, o *tickets.OTC) (SSHConfig, error) {
	if len(o.Gateways) == 0 || len(o.HostKeys) == 0 {
		return SSHConfig{}, errors.New("the .otc file names no gateway or host key")
	}
	if err := checkExpiry(o); err != nil {
		return SSHConfig{}, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return SSHConfig{}, fmt.Errorf("ssh config directory: %w", err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return SSHConfig{}, fmt.Errorf("ssh config directory: %w", err)
	}
	c := SSHConfig{Dir: abs, Config: filepath.Join(abs, "config"), Key: filepath.Join(abs, "key"),
		KnownHosts: filepath.Join(abs, "known_hosts"), Alias: SSHConfigAlias(o.Request)}
	kh, err := knownHostsLines(o)
	if err != nil {
		return SSHConfig{}, err
	}
	for _, p := range []string{c.Key, c.KnownHosts, c.Config} {
		if strings.ContainsAny(p, "\"\n\r") {
			return SSHConfig{}, fmt.Errorf("ssh config directory %q: OpenSSH cannot read a path with a quote or line break; choose another (-o DIR)", abs)
		}
	}
	cfg, err := configText(c, o)
	if err != nil {
		return SSHConfig{}, err
	}
	for _, f := range []struct {
		path string
		data []byte
		mode os.FileMode
	}{
		{c.Key, append(bytes.TrimSpace(o.Key), '\n'), 0o600},
		{c.KnownHosts, kh, 0o644},
		{c.Config, cfg, 0o600},
	} {
		if err := writeFileMode(f.path, f.data, f.mode); err != nil {
			return SSHConfig{}, err
		}
	}
	return c, nil
}

// writeFileMode writes data with exactly mode, whatever the umask or an older file's mode.
func writeFileMode(path string, data []byte, mode os.FileMode) error {
	if err := os.WriteFile(path, data, mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(path, mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// knownHostsLines pins every host key for every gateway address, in known_hosts syntax:
// "[host]:port key" unless the port is 22.
func knownHostsLines(o *tickets.OTC) ([]byte, error) {
	var b bytes.Buffer
	for _, g := range o.Gateways {
		host, port, err := net.SplitHostPort(g)
		if err != nil {
			return nil, fmt.Errorf("gateway %q: %w", g, err)
		}
		name := host
		if port != "22" {
			name = "[" + host + "]:" + port
		}
		for _, k := range o.HostKeys {
			fmt.Fprintf(&b, "%s %s", name, ssh.MarshalAuthorizedKey(k))
		}
	}
	return b.Bytes(), nil
}

// configText writes one Host block per gateway address: the first is Alias, the others
// Alias-2, Alias-3 … for when the first is unreachable.
func configText(c SSHConfig, o *tickets.OTC) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# assist: OpenSSH configuration for request %s, issued to %s.\n", o.Request, o.Technician)
	fmt.Fprintf(&b, "# The one-time credential in %s starts one session until %s;\n", c.Key, o.Expires.Local().Format(time.RFC3339))
	b.WriteString("# once that session ends it is spent. Only SFTP is offered: use sftp, or scp without -O.\n")
	fmt.Fprintf(&b, "#   %s\n#   %s\n", c.SFTPCommand(), c.SCPCommand())
	var algos []string
	for _, k := range o.HostKeys {
		algos = append(algos, tickets.HostKeyAlgorithms([]ssh.PublicKey{k})...)
	}
	for i, g := range o.Gateways {
		host, port, err := net.SplitHostPort(g)
		if err != nil {
			return nil, fmt.Errorf("gateway %q: %w", g, err)
		}
		if _, err := strconv.Atoi(port); err != nil {
			return nil, fmt.Errorf("gateway %q: port is not a number", g)
		}
		alias := c.Alias
		if i > 0 {
			alias = fmt.Sprintf("%s-%d", c.Alias, i+1)
		}
		names := alias
		if upper := strings.Replace(alias, strings.ToLower(o.Request), o.Request, 1); upper != alias {
			names += " " + upper
		}
		fmt.Fprintf(&b, "\nHost %s\n", names)
		for _, kv := range [][2]string{
			{"HostName", host},
			{"Port", port},
			{"User", protocol.OTCUser(o.Request)},
			{"IdentityFile", quoteConfig(c.Key)},
			{"IdentitiesOnly", "yes"},
			{"IdentityAgent", "none"},
			{"CertificateFile", "none"},
			{"PubkeyAuthentication", "yes"},
			{"PasswordAuthentication", "no"},
			{"KbdInteractiveAuthentication", "no"},
			{"HostbasedAuthentication", "no"},
			{"GSSAPIAuthentication", "no"},
			{"PreferredAuthentications", "publickey"},
			{"UserKnownHostsFile", quoteConfig(c.KnownHosts)},
			{"GlobalKnownHostsFile", "none"},
			{"StrictHostKeyChecking", "yes"},
			{"UpdateHostKeys", "no"},
			{"CheckHostIP", "no"},
			{"HostKeyAlgorithms", strings.Join(algos, ",")},
			// The gateway is Go's SSH, whose AES-GCM uses the CPU's AES instructions while its
			// ChaCha20 is plain Go on amd64: put AES-GCM first (OpenSSH's default is ChaCha20).
			{"Ciphers", "aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com"},
			{"ForwardAgent", "no"},
			{"ForwardX11", "no"},
			{"ClearAllForwardings", "yes"},
			{"ControlMaster", "no"},
			{"ControlPath", "none"},
			{"ProxyCommand", "none"},
			{"ProxyJump", "none"},
			{"ServerAliveInterval", "15"},
		} {
			fmt.Fprintf(&b, "    %s %s\n", kv[0], kv[1])
		}
	}
	return b.Bytes(), nil
}

// quoteConfig writes a path for ssh_config: "%" doubled, since ssh expands %-tokens in file
// names, and quoted when it has spaces. ssh_config has no escape for a double quote, which
// WriteSSHConfig refuses.
func quoteConfig(p string) string {
	p = strings.ReplaceAll(p, "%", "%%")
	if strings.ContainsAny(p, " \t") {
		return `"` + p + `"`
	}
	return p
}

// SFTPCommand is the command line that opens sftp with this configuration.
func (c SSHConfig) SFTPCommand() string {
	return "sftp -F " + shellQuote(c.Config) + " " + c.Alias
}

// SCPCommand is an example scp command line fetching a file with this configuration.
func (c SSHConfig) SCPCommand() string {
	return "scp -F " + shellQuote(c.Config) + " " + c.Alias + ":/path/to/file ."
}

// SCPUploadCommand is an example scp command line sending a file to the person's /tmp.
func (c SSHConfig) SCPUploadCommand() string {
	return "scp -F " + shellQuote(c.Config) + " FILE " + c.Alias + ":/tmp/"
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+:@,=", r))
	}) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
