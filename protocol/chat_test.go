package protocol

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"testing/quick"
)

func TestChatRoundTrips(t *testing.T) {
	f := func(from, text string) bool {
		if len(text) > MaxChatText || len(from) > 64 {
			return true
		}
		var b bytes.Buffer
		if err := WriteChat(&b, ChatMsg{From: from, Text: text}); err != nil {
			return false
		}
		m, err := ReadChat(&b)
		return err == nil && m.From == from && m.Text == text && b.Len() == 0
	}
	if err := quick.Check(f, nil); err != nil {
		t.Error(err)
	}
}

func TestChatRefusesOversize(t *testing.T) {
	frame := AppendChat(nil, ChatMsg{Text: strings.Repeat("x", MaxChatText+1)})
	if _, err := ReadChat(bytes.NewReader(frame)); !errors.Is(err, ErrChatFrame) {
		t.Errorf("a text over the bound: %v, want ErrChatFrame", err)
	}
	// A length past the bound is refused before its body is read (or allocated).
	if _, err := ReadChat(bytes.NewReader([]byte{0xff, 0xff, 0xff, 0xff})); !errors.Is(err, ErrChatFrame) {
		t.Errorf("a 4 GiB length: %v, want ErrChatFrame", err)
	}
}

// FuzzReadChat: the chat decoder never panics, never returns a message over its bounds, and
// what it returns encodes back to the frame it read.
func FuzzReadChat(f *testing.F) {
	f.Add(AppendChat(nil, ChatMsg{From: "alice", Text: "I'll connect in a minute"}))
	f.Add(AppendChat(nil, ChatMsg{From: "person", Text: "\x1b[31mred\x1b]0;title\x07 <b>x</b>"}))
	f.Add(AppendChat(AppendChat(nil, ChatMsg{Text: "one"}), ChatMsg{Text: "two"}))
	f.Add([]byte{0, 0, 0, 3, 1, 2, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		for {
			start := len(data) - r.Len()
			m, err := ReadChat(r)
			if err != nil {
				return
			}
			if len(m.Text) > MaxChatText || len(m.From) > 64 {
				t.Fatalf("decoded %d bytes of text", len(m.Text))
			}
			if got := AppendChat(nil, m); !bytes.Equal(got, data[start:len(data)-r.Len()]) {
				t.Fatalf("re-encoding differs: %x vs %x", got, data[start:len(data)-r.Len()])
			}
		}
	})
}
