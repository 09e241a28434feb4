package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/ssh"
)

// Chat: a channel of short text messages between the technician and the person, beside the
// desktop and allowed before the person's answer too. The technician opens ChatChannel to the
// gateway on a one-time session's connection (extra data ChatOpen, naming the session's own
// request); the gateway opens the same type to the person's agent (extra data ChatRef) and
// passes each message on after checking, cleaning, rate-limiting and auditing it. Agents of
// ChatVersion and later serve it; the gateway refuses chat to an older agent in words.
const (
	ChatChannel = "chat@assist.dev"
	ChatVersion = 5 // the first Version whose agents serve ChatChannel
	// MaxChatText bounds a message's text in bytes; MaxChatFrame a whole frame on the wire.
	MaxChatText  = 2000
	MaxChatFrame = MaxChatText + 256
)

// ChatOpen is the extra data of a technician's ChatChannel: the request to chat about.
type ChatOpen struct{ RequestCode string }

// ChatRef is the extra data of the gateway's ChatChannel to the agent: who chats.
type ChatRef struct {
	RequestCode string
	Technician  string // the verified account name
	FullName    string
}

// ChatMsg is one message. From is set by the gateway on what it passes on (the technician's
// account, "person", or "gateway" for its own notices); whatever a sender puts there is replaced.
type ChatMsg struct {
	From string
	Text string
}

// ErrChatFrame is a chat frame that is malformed or too long.
var ErrChatFrame = errors.New("chat: bad frame")

// AppendChat appends m as one frame: a big-endian uint32 length, then m's SSH wire encoding.
func AppendChat(dst []byte, m ChatMsg) []byte {
	body := ssh.Marshal(m)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(body)))
	return append(dst, body...)
}

// WriteChat writes m as one frame.
func WriteChat(w io.Writer, m ChatMsg) error {
	_, err := w.Write(AppendChat(nil, m))
	return err
}

// ReadChat reads one frame, refusing one longer than MaxChatFrame before reading its body.
func ReadChat(r io.Reader) (ChatMsg, error) {
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return ChatMsg{}, err
	}
	n := binary.BigEndian.Uint32(head[:])
	if n > MaxChatFrame {
		return ChatMsg{}, fmt.Errorf("%w: %d bytes, at most %d", ErrChatFrame, n, MaxChatFrame)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return ChatMsg{}, fmt.Errorf("%w: %w", ErrChatFrame, err)
	}
	return DecodeChat(body)
}

// DecodeChat decodes a frame's body.
func DecodeChat(body []byte) (ChatMsg, error) {
	var m ChatMsg
	if err := ssh.Unmarshal(body, &m); err != nil {
		return ChatMsg{}, fmt.Errorf("%w: %w", ErrChatFrame, err)
	}
	if len(m.Text) > MaxChatText || len(m.From) > 64 {
		return ChatMsg{}, fmt.Errorf("%w: %d bytes of text, at most %d", ErrChatFrame, len(m.Text), MaxChatText)
	}
	return m, nil
}
