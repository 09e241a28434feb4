package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/assistkit/assist/tickets"
)

// Chat is the session's chat with the person; package viewer's Chat provides it.
type Chat interface {
	Say(text string) error
	// Next is the next message and who sent it (the gateway names the sender), printable text.
	Next() (from, text string, err error)
	Close() error
}

// chatNote is a chat message for the page, or (T "chat-closed") why chat is not there. The
// page shows From and Text as text, never as markup.
type chatNote struct {
	T    string `json:"t"`
	Seq  int    `json:"seq,omitempty"` // messages count from 1; a page shows each once
	From string `json:"from,omitempty"`
	Text string `json:"text,omitempty"`
	Why  string `json:"why,omitempty"`
}

// chatHistory is how many messages a page that opens later is shown.
const chatHistory = 100

// maxChatBody bounds a /chat body: the protocol's 2000 bytes, spelled in JSON.
const maxChatBody = 16 << 10

// chatSide holds the session's chat: opened when the page starts, before the person answered.
type chatSide struct {
	settled chan struct{} // closed once the chat opened or failed to
	once    sync.Once
	mu      sync.Mutex
	c       Chat
	why     string // why there is no chat, once it failed or closed
	history []chatNote
	seq     int
}

// runChat opens the chat and passes what the person says to the pages, until it closes.
func (w *Server) runChat() {
	c, err := w.s.Chat()
	if err != nil {
		w.chatEnded(err)
		return
	}
	w.chat.mu.Lock()
	w.chat.c = c
	w.chat.mu.Unlock()
	w.chat.settle()
	go func() {
		<-w.stop
		c.Close()
	}()
	for {
		from, text, err := c.Next()
		if err != nil {
			w.chatEnded(err)
			return
		}
		w.chatSaid(chatNote{T: "chat", From: from, Text: text})
	}
}

func (w *Server) chatSaid(n chatNote) {
	w.chat.mu.Lock()
	w.chat.seq++
	n.Seq = w.chat.seq
	w.chat.history = append(w.chat.history, n)
	if len(w.chat.history) > chatHistory {
		w.chat.history = w.chat.history[1:]
	}
	w.chat.mu.Unlock()
	w.views.notify(n)
}

func (c *chatSide) settle() { c.once.Do(func() { close(c.settled) }) }

func (w *Server) chatEnded(err error) {
	why := "the chat closed"
	if !errors.Is(err, io.EOF) {
		why = err.Error()
	}
	w.chat.mu.Lock()
	w.chat.c, w.chat.why = nil, why
	w.chat.mu.Unlock()
	w.chat.settle()
	w.views.notify(chatNote{T: "chat-closed", Why: why})
}

// chatNotes are what a page that opens now is told: the history, and whether chat is closed.
func (w *Server) chatNotes() []chatNote {
	w.chat.mu.Lock()
	defer w.chat.mu.Unlock()
	out := append([]chatNote(nil), w.chat.history...)
	if w.chat.c == nil && w.chat.why != "" {
		out = append(out, chatNote{T: "chat-closed", Why: w.chat.why})
	}
	return out
}

// handleChat sends the technician's message: {"text": "…"}.
func (w *Server) handleChat(rw http.ResponseWriter, r *http.Request) {
	body, err := readBody(r.Body, maxChatBody)
	var m struct {
		Text string `json:"text"`
	}
	if err == nil {
		err = json.Unmarshal(body, &m)
	}
	if err != nil {
		http.Error(rw, fmt.Sprintf("chat message: %v", err), http.StatusBadRequest)
		return
	}
	// A page opens before the chat channel has: a message sent meanwhile waits for it.
	select {
	case <-w.chat.settled:
	case <-r.Context().Done():
		return
	case <-w.stop:
	}
	w.chat.mu.Lock()
	c, why := w.chat.c, w.chat.why
	w.chat.mu.Unlock()
	if c == nil {
		if why == "" {
			why = "the session ended"
		}
		http.Error(rw, "no chat: "+why, http.StatusConflict)
		return
	}
	if err := c.Say(m.Text); err != nil {
		http.Error(rw, "chat: "+err.Error(), http.StatusBadGateway)
		return
	}
	w.chatSaid(chatNote{T: "chat", From: "you", Text: tickets.CleanLine(m.Text)})
	rw.WriteHeader(http.StatusNoContent)
}
