package viewer

import (
	"sync"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/tickets"
)

// Chat is the session's chat with the person: it opens before they answer too.
type Chat struct {
	ch ssh.Channel
	mu sync.Mutex // one frame at a time
}

// Chat opens the chat with the person of the session's request.
func (s *Session) Chat() (*Chat, error) {
	ch, reqs, err := s.OpenChannel(protocol.ChatChannel, ssh.Marshal(protocol.ChatOpen{RequestCode: s.OTC.Request}))
	if err != nil {
		return nil, s.explain(ChannelError("chat", err))
	}
	go ssh.DiscardRequests(reqs)
	return &Chat{ch: ch}, nil
}

// Say sends a message.
func (c *Chat) Say(text string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return protocol.WriteChat(c.ch, protocol.ChatMsg{Text: text})
}

// Next returns the next message, as the gateway says who sent it, with its text printable
// only. It fails once the chat closed.
func (c *Chat) Next() (from, text string, err error) {
	m, err := protocol.ReadChat(c.ch)
	if err != nil {
		return "", "", err
	}
	return tickets.CleanLine(m.From), tickets.CleanLine(m.Text), nil
}

// Close closes the chat.
func (c *Chat) Close() error { return c.ch.Close() }
