package sshd

import (
	"errors"
	"fmt"

	"golang.org/x/crypto/ssh"

	"github.com/assistkit/assist/protocol"
)

// What gateways of one cluster say to each other (peering.go). Only gateways speak it, so it
// lives here rather than in protocol: a technician's gateway asks the agent's gateway whether
// it holds a request's agent, then opens relay channels that the agent's gateway passes on to
// the agent's reverse connection.
const (
	// peerUserPrefix and the gateway's name (tickets.Gateway.Name) is the SSH user a gateway
	// logs in to another as, with one of its host keys.
	peerUserPrefix = "assist-gateway-"
	// agentQuery asks the agent's gateway for the agent of a session's request. Payload:
	// relayRef. Reply on success: agentHere; on refusal: protocol.ErrorReply.
	agentQuery = "agent@gateway.assist.dev"
	// relayChannel carries one channel of a session to the agent. Extra data: relayOpen. The
	// agent's gateway opens Type with Data on the agent's connection and splices the two; a
	// rejection by the agent is passed back as it is.
	relayChannel = "relay@gateway.assist.dev"
)

// relayRef names the session a gateway asks for: the credential whose session it holds and the
// request that credential is for.
type relayRef struct {
	Fingerprint string
	RequestID   string
}

// agentHere answers agentQuery: the protocol version the agent filed with, for which the
// technician's gateway encodes what it sends the agent, and which of the agent's connections
// holds the request (an agent that came back on a new one is resumed; the lost one is not).
type agentHere struct {
	Version    uint32
	Connection string
}

// relayOpen is relayChannel's extra data.
type relayOpen struct {
	Fingerprint string
	RequestID   string
	Type        string // the channel type opened to the agent
	Data        []byte // its extra data, encoded for the agent's version
}

// relayed are the channel types a relay opens to an agent: those the gateway itself opens to
// agents on a session's behalf.
var relayed = map[string]bool{
	protocol.SessionChannel:     true,
	protocol.ResumeChannel:      true,
	protocol.FramebufferChannel: true,
	protocol.InputChannel:       true,
	protocol.ChatChannel:        true,
	"session":                   true, // SFTP
}

// Bounds of what a peer may send: a fingerprint and a request ID are short; a channel's extra
// data is a few names.
const (
	maxRefField  = 128
	maxRelayData = 4096
)

var errPeerMessage = errors.New("malformed gateway message")

func decodeRelayRef(b []byte) (relayRef, error) {
	var m relayRef
	if err := ssh.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%w: %w", errPeerMessage, err)
	}
	return m, m.check()
}

func (m relayRef) check() error {
	if m.Fingerprint == "" || m.RequestID == "" || len(m.Fingerprint) > maxRefField || len(m.RequestID) > maxRefField {
		return fmt.Errorf("%w: session reference out of bounds", errPeerMessage)
	}
	return nil
}

func decodeRelayOpen(b []byte) (relayOpen, error) {
	var m relayOpen
	if err := ssh.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%w: %w", errPeerMessage, err)
	}
	if err := (relayRef{m.Fingerprint, m.RequestID}).check(); err != nil {
		return m, err
	}
	if !relayed[m.Type] {
		return m, fmt.Errorf("%w: channel type %q is not relayed", errPeerMessage, clip(m.Type))
	}
	if len(m.Data) > maxRelayData {
		return m, fmt.Errorf("%w: %d bytes of channel data, over %d", errPeerMessage, len(m.Data), maxRelayData)
	}
	return m, nil
}

func decodeAgentHere(b []byte) (agentHere, error) {
	var m agentHere
	if err := ssh.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%w: %w", errPeerMessage, err)
	}
	if m.Version < protocol.MinVersion || len(m.Connection) > maxRefField {
		return m, fmt.Errorf("%w: agent version %d, connection of %d bytes", errPeerMessage, m.Version, len(m.Connection))
	}
	return m, nil
}
