package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/assistkit/assist/internal/cli"
	"github.com/assistkit/assist/viewer"
)

// globalOptions are how assist reaches the gateway: flags, then environment, then the profile.
type globalOptions struct {
	gateway, user, identity, gatewayKey, knownHosts string
}

func (g *globalOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringVar(&g.gateway, "gateway", "", "gateway address HOST:PORT (ASSIST_GATEWAY)")
	f.StringVar(&g.user, "user", "", "your account on the gateway (ASSIST_USER)")
	f.StringVar(&g.identity, "identity", "", "private key file (ASSIST_IDENTITY; default: ssh-agent, then ~/.ssh/id_ed25519)")
	f.StringVar(&g.gatewayKey, "gateway-key", "", "the gateway's host key line, or a file holding it (ASSIST_GATEWAY_KEY)")
	f.StringVar(&g.knownHosts, "known-hosts", "", "known_hosts file to check the gateway against when no --gateway-key (default ~/.ssh/known_hosts)")
}

// profile is what assist login saves.
type profile struct {
	Gateway    string `json:"gateway"`
	User       string `json:"user"`
	Identity   string `json:"identity,omitempty"`
	GatewayKey string `json:"gateway_key,omitempty"`
	KnownHosts string `json:"known_hosts,omitempty"`
}

func profilePath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find config directory: %w", err)
	}
	return filepath.Join(dir, "assist", "profile.json"), nil
}

func loadProfile() (profile, error) {
	var p profile
	path, err := profilePath()
	if err != nil {
		return p, err
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return p, fmt.Errorf("read profile: %w", err)
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return p, fmt.Errorf("profile %s: %w (run assist login again)", path, err)
	}
	return p, nil
}

// login resolves flags, environment and profile into a viewer.Login.
func (g *globalOptions) login() (viewer.Login, error) {
	p, err := loadProfile()
	if err != nil {
		return viewer.Login{}, err
	}
	pick := func(flag, env, prof string) string {
		if flag != "" {
			return flag
		}
		if v := os.Getenv(env); v != "" {
			return v
		}
		return prof
	}
	l := viewer.Login{
		Gateway:    pick(g.gateway, "ASSIST_GATEWAY", p.Gateway),
		User:       pick(g.user, "ASSIST_USER", p.User),
		Identity:   pick(g.identity, "ASSIST_IDENTITY", p.Identity),
		GatewayKey: pick(g.gatewayKey, "ASSIST_GATEWAY_KEY", p.GatewayKey),
		KnownHosts: pick(g.knownHosts, "ASSIST_KNOWN_HOSTS", p.KnownHosts),
	}
	if l.Gateway == "" || l.User == "" {
		return l, cli.WithHint(errors.New("no gateway or user to log in with"),
			"give --gateway HOST:PORT and --user NAME, set ASSIST_GATEWAY and ASSIST_USER, or save them once with assist login")
	}
	return l, nil
}
