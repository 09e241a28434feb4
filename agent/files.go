package agent

import (
	"context"
	"io"
	"log/slog"
	"os"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/internal/sftppacket"
	"github.com/assistkit/assist/protocol"
)

// FilesRoute serves SFTP over the whole file system as the agent's own user ("full file system
// access", as the help desk promises), read-only unless the person allowed writing.
func FilesRoute(log *slog.Logger) Route {
	return Route{Need: protocol.GrantFilesRead, Service: ServiceFunc(func(ctx context.Context, ch ssh.Channel, reqs <-chan *ssh.Request, g protocol.Grant) {
		serveSFTP(ctx, ch, reqs, g, log)
	})}
}

// serveSFTP waits for the sftp subsystem request and serves it; it sends exit-status before
// closing, or OpenSSH's clients report failure.
func serveSFTP(ctx context.Context, ch ssh.Channel, reqs <-chan *ssh.Request, g protocol.Grant, log *slog.Logger) {
	for r := range reqs {
		if r.Type != "subsystem" || string(r.Payload[min(4, len(r.Payload)):]) != "sftp" {
			log.Warn("refused request on file channel", "type", r.Type)
			if r.WantReply {
				r.Reply(false, nil)
			}
			continue
		}
		r.Reply(true, nil)
		go ssh.DiscardRequests(reqs)
		var opts []sftp.ServerOption
		// Relative paths start in the person's home, as with sshd: "CODE.otc:notes.txt" is
		// ~/notes.txt whatever directory the agent was started in.
		if home, err := os.UserHomeDir(); err == nil {
			opts = append(opts, sftp.WithServerWorkingDirectory(home))
		}
		if !g.Allows(protocol.GrantFilesWrite) {
			opts = append(opts, sftp.ReadOnly())
		}
		srv, err := sftp.NewServer(packetChannel{ch, sftppacket.NewWriter(ch), ch}, opts...)
		if err != nil {
			log.Error("start sftp server", "err", err)
			return
		}
		status := uint32(0)
		if err := srv.Serve(); err != nil && ctx.Err() == nil {
			log.Debug("sftp session ended", "err", err)
			status = 1
		}
		// exit-status first: srv.Close closes the channel, and without the status OpenSSH's
		// ssh exits -1 and scp reports every copy as failed.
		ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{status}))
		srv.Close()
		return
	}
}

// packetChannel is the SSH channel with its writes gathered into whole SFTP packets.
type packetChannel struct {
	io.Reader
	io.Writer
	io.Closer
}
