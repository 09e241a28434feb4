package agent

import (
	"errors"
	"fmt"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/protocol"
	"github.com/assistkit/assist/tickets"
)

// ChatMessage is a message of the chat with the help desk, as the person's screen shows it.
type ChatMessage struct {
	From string // the technician's account, "gateway" for its notices; empty for the person's own
	Text string // printable text only
}

// ErrNoChat is Say with no technician in the chat.
var ErrNoChat = errors.New("no technician is chatting with you right now")

// openChat serves a chat the gateway opened for a technician: each message they send is an
// EventChat; Say answers every open chat. The gateway opens chat before the person answered
// too: it carries nothing but words.
func (a *Agent) openChat(nc ssh.NewChannel) {
	var ref protocol.ChatRef
	if err := protocol.Unmarshal(nc.ExtraData(), &ref, protocol.Version); err != nil {
		nc.Reject(ssh.ConnectionFailed, "malformed chat request")
		return
	}
	if code := a.Code(); ref.RequestCode != code {
		nc.Reject(ssh.Prohibited, "this agent holds request "+code+", not "+cleanName(ref.RequestCode))
		return
	}
	ch, reqs, err := nc.Accept()
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	a.mu.Lock()
	a.chats[ch] = struct{}{}
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		delete(a.chats, ch)
		a.mu.Unlock()
		ch.Close()
	}()
	who := cleanName(ref.Technician)
	a.log.Info("chat opened", "technician", who)
	for {
		m, err := protocol.ReadChat(ch)
		if err != nil {
			a.log.Info("chat closed", "technician", who, "err", err)
			return
		}
		from := cleanName(m.From)
		if from != "gateway" {
			from = who // the gateway names the sender; only its own notices say otherwise
		}
		if text := tickets.CleanLine(m.Text); text != "" {
			a.emit(Event{Kind: EventChat, Chat: &ChatMessage{From: from, Text: text}})
		}
	}
}

// Say sends the person's words to every technician chatting with them.
func (a *Agent) Say(text string) error {
	text = tickets.CleanLine(text)
	if text == "" {
		return nil
	}
	if len(text) > protocol.MaxChatText {
		return fmt.Errorf("a message holds at most %d bytes", protocol.MaxChatText)
	}
	a.mu.Lock()
	chats := make([]ssh.Channel, 0, len(a.chats))
	for ch := range a.chats {
		chats = append(chats, ch)
	}
	a.mu.Unlock()
	if len(chats) == 0 {
		return ErrNoChat
	}
	var errs []error
	for _, ch := range chats {
		errs = append(errs, protocol.WriteChat(ch, protocol.ChatMsg{Text: text}))
	}
	return errors.Join(errs...)
}
