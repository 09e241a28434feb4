// Package protocol is what the agent, the gateway and the viewer say to each other beside the
// desktop stream: the names of their global requests, channels and channel requests, the SSH user
// names they log in as, the messages those carry, and the person's grant. Every side imports it;
// it imports nothing of the project.
package protocol

// The messages agents and the gateway exchange about requests and sessions, in SSH's name@domain
// form. Payloads are SSH wire encodings of the structs in messages.go, for the agent's protocol
// version (Marshal and Unmarshal in version.go).
const (
	// RequestGlobal is the agent's global request that files (or resumes) its request.
	// Payload: the agent's Version as a uint32, then the request form's fields for that version
	// (tickets.Form, whose EncodeForm and DecodeForm write and read it). Reply on success: RequestReply; on refusal:
	// ErrorReply.
	RequestGlobal = "request@assist.dev"
	// ClosedGlobal tells the agent its request was closed. Payload: ClosedMsg. No reply.
	ClosedGlobal = "closed@assist.dev"
	// WithdrawGlobal is the agent's global request that withdraws its request: the person no
	// longer wants help. No payload; wants a reply. The gateway closes the request as closed by
	// the person, audits it, replies, then sends ClosedGlobal and drops the connection.
	WithdrawGlobal = "withdraw@assist.dev"
	// SessionChannel is opened by the gateway to the agent when a technician's one-time session
	// starts. Extra data: ConsentAsk. The agent asks the person; it rejects the channel if they deny,
	// else accepts it and sends GrantRequest. Closing it after EndRequest ends the session, from
	// either side; a channel lost with its connection leaves the session to be resumed.
	SessionChannel = "session@assist.dev"
	// ResumeChannel is opened by the gateway to an agent that came back while one of its sessions
	// waited for it. Extra data: ChannelRef. The agent accepts it if it still holds that session
	// (the person is not asked again) and sends GrantRequest with the grant as it stands; from
	// then on it is that session's channel. It rejects it, in words, if it holds no such session.
	ResumeChannel = "session-resume@assist.dev"
	// EndedGlobal tells a one-time session's connections why the session ended, just before the
	// gateway closes them. Payload: EndedMsg. No reply.
	EndedGlobal = "session-ended@assist.dev"
	// GrantedGlobal tells a one-time session's connections what the person allows, when they
	// answer and whenever they narrow it, so the viewer can show it. Payload: GrantMsg. No reply.
	GrantedGlobal = "session-grant@assist.dev"
	// AwayGlobal tells a one-time session's connections that the person's agent lost its
	// connection and the session waits for it to come back; the desktop channels are closed and
	// may be opened again (the gateway holds them until the agent is back or the session ends).
	// Payload: EndedMsg (the reason, in words). No reply.
	AwayGlobal = "session-away@assist.dev"
	// BackGlobal tells a one-time session's connections that the agent is back and the session
	// resumed. No payload, no reply.
	BackGlobal = "session-back@assist.dev"
	// LimitGlobal tells a one-time session's connections that the session will end at a limit
	// of the gateway (--session-max, --session-idle) unless something changes: said in the
	// last minutes before it, and again, with LeftMillis 0, when input pushed an idle end
	// away. Payload: LimitMsg. No reply.
	LimitGlobal = "session-limit@assist.dev"
	// LimitRequest on the session channel tells the agent the same, for the person's screen.
	// Payload: LimitMsg. No reply; an agent that does not know it ignores it.
	LimitRequest = "limit@assist.dev"
	// EndRequest on the session channel says the session ends on purpose, just before the sender
	// closes the channel: from the agent, the person ended it (no payload); from the gateway,
	// payload EndedMsg says why. A close without it means the connection was lost. No reply.
	EndRequest = "end@assist.dev"
	// GrantRequest carries the person's answer on the session channel. Payload: GrantMsg.
	GrantRequest = "grant@assist.dev"
	// NoAnswer is the agent's rejection message of a SessionChannel whose question reached its
	// deadline unanswered (reason Prohibited, as for a refusal).
	NoAnswer = "the person did not answer in time"
)

// The desktop's channel types. A one-time session opens them to the gateway, which opens the same
// type to the agent (extra data: ChannelRef) and splices the two; package rdp speaks what flows on
// them.
const (
	FramebufferChannel = "framebuffer@assist.dev"
	InputChannel       = "input@assist.dev"
)

// AgentUser is the SSH user name agents log in as. Any key may file a request; the key then
// binds the request, so only that agent can resume it.
const AgentUser = "assist-agent"

// OTCUser is the SSH user name a one-time credential logs in as: it names the request, so the
// gateway checks that the credential was issued for that very request.
func OTCUser(code string) string { return "otc-" + code }
