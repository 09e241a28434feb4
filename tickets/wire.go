package tickets

import (
	"encoding/binary"
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"
)

// The messages agents and the gateway exchange about requests and sessions, in SSH's name@domain
// form. Payloads are SSH wire encodings (ssh.Marshal) of the structs below.
const (
	// RequestGlobal is the agent's global request that files (or resumes) its request.
	// Payload: FormMsg. Reply on success: RequestReply; on refusal: ErrorReply.
	RequestGlobal = "request@assist.dev"
	// ClosedGlobal tells the agent its request was closed. Payload: ClosedMsg. No reply.
	ClosedGlobal = "closed@assist.dev"
	// SessionChannel is opened by the gateway to the agent when a technician's one-time session
	// starts. Extra data: ConsentAsk. The agent asks the person; it rejects the channel if they deny,
	// else accepts it and sends GrantRequest. Closing the channel ends the session, from either side.
	SessionChannel = "session@assist.dev"
	// EndedGlobal tells a one-time session's connections why the session ended, just before the
	// gateway closes them. Payload: EndedMsg. No reply.
	EndedGlobal = "session-ended@assist.dev"
	// EndRequest on the session channel says the person ended the session, just before the
	// agent closes it; a close without it means the agent went away. No payload, no reply.
	EndRequest = "end@assist.dev"
	// GrantRequest carries the person's answer on the session channel. Payload: GrantMsg.
	GrantRequest = "grant@assist.dev"
	// ProtocolVersion is the version of these messages; FormMsg carries the agent's.
	ProtocolVersion = 1
)

// FormMsg is the payload of RequestGlobal.
type FormMsg struct {
	Version  uint32
	FullName string
	UserName string
	Computer string
	Email    string
	Phone    string
	Message  string
	LocalIP  string
}

// RequestReply answers a successful RequestGlobal.
type RequestReply struct {
	Code    string
	Resumed bool
}

// ErrorReply answers a refused global request with a message meant for the person.
type ErrorReply struct{ Message string }

// ClosedMsg says who closed the request.
type ClosedMsg struct {
	By     string
	Reason string
}

// EndedMsg says why a session ended, in words for the technician.
type EndedMsg struct{ Reason string }

// ConsentAsk tells the agent who asks for which session.
type ConsentAsk struct {
	SessionID   string
	RequestCode string
	Technician  string // the verified account name
	FullName    string // the account's full name
}

// GrantMsg is the person's answer.
type GrantMsg struct{ Grant uint32 }

// ChannelRef is the extra data of every channel the gateway opens to the agent on behalf of a
// session (framebuffer, input, sftp), so the agent enforces that session's grant.
type ChannelRef struct{ SessionID string }

// DecodeForm decodes a RequestGlobal payload into a cleaned Form, refusing anything malformed,
// oversized or from an unknown protocol version.
func DecodeForm(payload []byte) (Form, error) {
	if len(payload) > 8<<10 {
		return Form{}, fmt.Errorf("request form: %d bytes, at most 8 KiB allowed", len(payload))
	}
	// The version comes first and is read on its own: a newer agent's form may have fields this
	// build cannot decode, and it should hear about the version, not "malformed".
	if len(payload) >= 4 {
		if v := binary.BigEndian.Uint32(payload); v != ProtocolVersion {
			return Form{}, fmt.Errorf("request form: protocol version %d, this gateway speaks %d", v, ProtocolVersion)
		}
	}
	var m FormMsg
	if err := ssh.Unmarshal(payload, &m); err != nil {
		return Form{}, fmt.Errorf("request form: malformed: %w", err)
	}
	return Form{m.FullName, m.UserName, m.Computer, m.Email, m.Phone, m.Message, m.LocalIP}.Clean()
}

// EncodeForm is DecodeForm's counterpart, for agents.
func EncodeForm(f Form) []byte {
	return ssh.Marshal(FormMsg{ProtocolVersion, f.FullName, f.UserName, f.Computer, f.Email, f.Phone, f.Message, f.LocalIP})
}

// Grant is what the person allowed a technician to do. Zero means denied.
type Grant uint32

const (
	GrantView Grant = 1 << iota
	GrantControl
	GrantFilesRead
	GrantFilesWrite
)

// Allows reports whether every bit of want is granted.
func (g Grant) Allows(want Grant) bool { return want != 0 && g&want == want }

// grantWords are the words ParseGrant accepts, combined with commas ("view,files-ro").
var grantWords = []struct {
	word  string
	grant Grant
}{
	{"deny", 0},
	{"view", GrantView},
	{"control", GrantView | GrantControl},
	{"files", GrantFilesRead | GrantFilesWrite},
	{"files-ro", GrantFilesRead},
	{"full", GrantView | GrantControl | GrantFilesRead | GrantFilesWrite},
}

// ParseGrant reads an answer such as "control", "full", "view,files-ro" or "deny".
func ParseGrant(s string) (Grant, error) {
	var g Grant
	for _, w := range strings.Split(s, ",") {
		w = strings.TrimSpace(strings.ToLower(w))
		found := false
		for _, gw := range grantWords {
			if gw.word == w {
				g |= gw.grant
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("consent %q: want deny, view, control, files, files-ro or full, combined with commas", w)
		}
	}
	return g, nil
}

// String names the grant in ParseGrant's words.
func (g Grant) String() string {
	if g == 0 {
		return "deny"
	}
	var parts []string
	var named Grant
	switch {
	case g.Allows(GrantView | GrantControl):
		parts, named = append(parts, "control"), named|GrantView|GrantControl
	case g.Allows(GrantView):
		parts, named = append(parts, "view"), named|GrantView
	}
	switch {
	case g.Allows(GrantFilesRead | GrantFilesWrite):
		parts, named = append(parts, "files"), named|GrantFilesRead|GrantFilesWrite
	case g.Allows(GrantFilesRead):
		parts, named = append(parts, "files-ro"), named|GrantFilesRead
	}
	// Bits no word names (control without view, write without read, unknown bits) can still
	// arrive in a GrantMsg; show them rather than print a grant that allows something as "".
	if rest := g &^ named; rest != 0 {
		parts = append(parts, fmt.Sprintf("%#x", uint32(rest)))
	}
	return strings.Join(parts, ",")
}

// AgentUser is the SSH user name agents log in as. Any key may file a request; the key then
// binds the request, so only that agent can resume it.
const AgentUser = "assist-agent"
