package web

import (
	"context"
	"io"
	"io/fs"
	"time"

	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/rdp"
)

// Session is what the page needs of the one-time session; package viewer's Session provides it.
type Session interface {
	// Request is the request code, for the page's title.
	Request() string
	// Framebuffer opens a framebuffer channel; its errors say why in the person's or the gateway's words.
	Framebuffer(inFlight int) (*rdp.FramebufferClient, error)
	// Input opens the input channel.
	Input() (*rdp.InputClient, error)
	// Files opens the person's files; the error says why when they are not shared.
	Files() (Files, error)
	// Ping times a round trip to the gateway.
	Ping() (time.Duration, error)
	// Grant is what the person allows as the gateway last said (0 while unknown), and a
	// channel closed when that changes.
	Grant() (protocol.Grant, <-chan struct{})
	// Away says why the session waits for the person's agent to come back; "" while it is there.
	Away() string
	// Limit is when the gateway said it will end the session and why (a zero time: no end is
	// near), and a channel closed when that changes.
	Limit() (ends time.Time, why string, changed <-chan struct{})
	// Chat opens the chat with the person.
	Chat() (Chat, error)
	// End ends the session with reason, as the technician asked.
	End(reason string)
	// Ended is closed when the session ends; EndReason then says why.
	Ended() <-chan struct{}
	EndReason() string
}

// Files is the part of the session's SFTP client that the files panel uses.
type Files interface {
	Home(ctx context.Context) (string, error)
	List(ctx context.Context, dir string) ([]Entry, error)
	Stat(ctx context.Context, p string) (Entry, error)
	Download(ctx context.Context, p string, w io.Writer) (int64, error)
	Upload(ctx context.Context, p string, r io.Reader, size int64) (int64, error)
	Close() error
}

// Entry is a file as the files panel shows it.
type Entry struct {
	Name    string      `json:"name"`
	Size    int64       `json:"size"`
	Mode    fs.FileMode `json:"mode"`
	ModTime time.Time   `json:"mtime"`
	IsDir   bool        `json:"is_dir"`
}
