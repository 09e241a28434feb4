package protocol

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

// LimitMsg says how long a session has before the gateway ends it, and why it will: in words
// for both sides. LeftMillis 0 says no end is near any more.
type LimitMsg struct {
	LeftMillis uint32
	Why        string
}

// ConsentAsk tells the agent who asks for which session.
type ConsentAsk struct {
	SessionID   string
	RequestCode string
	Technician  string // the verified account name
	FullName    string // the account's full name
	// TimeoutMillis is how long the gateway waits for the answer, counted from its sending
	// this; the agent closes its question by then, since a later answer grants nothing.
	TimeoutMillis uint32 `since:"2"`
	// Recorded says the gateway records the session, so that the person is told before
	// answering. An agent older than version 3 cannot be told here; the gateway tells it in
	// FullName instead (sshd's askAgent).
	Recorded bool `since:"3"`
}

// GrantMsg is the person's answer.
type GrantMsg struct{ Grant uint32 }

// ChannelRef is the extra data of every channel the gateway opens to the agent on behalf of a
// session (framebuffer, input, sftp), so the agent enforces that session's grant.
type ChannelRef struct{ SessionID string }
