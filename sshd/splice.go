package sshd

import (
	"io"
	"sync"

	"golang.org/x/crypto/ssh"
)

// pipe is one side of a spliced channel pair.
type pipe struct {
	ch   ssh.Channel
	reqs <-chan *ssh.Request
	via  string // an agent's side through another gateway of the cluster: its name
}

// spliceOptions adapt a splice: wrap lets an observer see the bytes (the SFTP audit) and
// forward says which channel requests from the technician may reach the agent.
type spliceOptions struct {
	toAgent  func(io.Writer) io.Writer // wraps the writer technician→agent bytes go into
	toTech   func(io.Writer) io.Writer // wraps the writer agent→technician bytes go into
	forward  func(reqType string) bool // technician requests passed on; the rest are refused
	onRefuse func(reqType string)
}

// splice joins a technician's channel and the agent's: data both ways with SSH flow control
// (each side's window limits the copy), EOF passed on as EOF, and when either side closes, the
// other is closed too. The agent's requests (exit-status) reach the technician. It returns the
// byte counts in each direction once both sides are closed.
func splice(tech, agent pipe, o spliceOptions) (toAgent, toTech int64) {
	wrap := func(f func(io.Writer) io.Writer, w io.Writer) io.Writer {
		if f == nil {
			return w
		}
		return f(w)
	}
	// A side that closed has sent all its data first; its peer is closed only once that data
	// has been copied across, so nothing in flight is lost.
	var wg sync.WaitGroup
	toAgentDone, toTechDone := make(chan struct{}), make(chan struct{})
	wg.Add(4)
	go func() {
		defer wg.Done()
		defer close(toAgentDone)
		toAgent, _ = io.Copy(wrap(o.toAgent, agent.ch), tech.ch)
		agent.ch.CloseWrite()
	}()
	go func() {
		defer wg.Done()
		defer close(toTechDone)
		toTech, _ = io.Copy(wrap(o.toTech, tech.ch), agent.ch)
		tech.ch.CloseWrite()
	}()
	go func() {
		defer wg.Done()
		for r := range tech.reqs {
			if o.forward != nil && o.forward(r.Type) {
				forwardRequest(r, agent.ch)
				continue
			}
			if o.onRefuse != nil {
				o.onRefuse(r.Type)
			}
			if r.WantReply {
				r.Reply(false, nil)
			}
		}
		<-toAgentDone
		agent.ch.Close()
	}()
	go func() {
		defer wg.Done()
		for r := range agent.reqs {
			forwardRequest(r, tech.ch)
		}
		<-toTechDone
		tech.ch.Close()
	}()
	wg.Wait()
	return toAgent, toTech
}

func forwardRequest(r *ssh.Request, to ssh.Channel) {
	ok, err := to.SendRequest(r.Type, r.WantReply, r.Payload)
	if r.WantReply {
		r.Reply(ok && err == nil, nil)
	}
}
