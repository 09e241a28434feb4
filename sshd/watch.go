package sshd

import (
	"context"
	"strings"
	"sync"

	"github.com/assistkit/assist/tickets"
)

// Every change of what a request list shows is an audit event of the request, which the gateway
// logs (logEvent): so the changes are read from there, and nothing that changes a request can
// forget to tell the watchers. A watcher that falls behind loses nothing but repeats: it keeps
// one pending change per request, the latest.

// changes fans request changes out to the watchers.
type changes struct {
	mu       sync.Mutex
	watchers map[*watcher]struct{}
}

type watcher struct {
	wake    chan struct{}
	mu      sync.Mutex
	pending map[string]string // code → kind of its latest change
	order   []string          // codes in the order they first changed since the last take
}

// listed reports whether an event of kind changes what a request list shows.
func listed(kind string) bool {
	return strings.HasPrefix(kind, "request.") || kind == "agent.disconnected" ||
		kind == "credential.used" || kind == "session.ended"
}

func (c *changes) publish(e tickets.Event) {
	if e.Request == "" || !listed(e.Kind) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for w := range c.watchers {
		w.mu.Lock()
		if _, ok := w.pending[e.Request]; !ok {
			w.order = append(w.order, e.Request)
		}
		w.pending[e.Request] = e.Kind
		w.mu.Unlock()
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// take returns the oldest pending change, if any.
func (w *watcher) take() (tickets.RequestChange, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.order) == 0 {
		return tickets.RequestChange{}, false
	}
	code := w.order[0]
	w.order = w.order[1:]
	kind := w.pending[code]
	delete(w.pending, code)
	return tickets.RequestChange{Code: code, Kind: kind}, true
}

// WatchRequests streams the requests that change from now on, until ctx ends; the channel is
// closed then.
func (s *Server) WatchRequests(ctx context.Context) <-chan tickets.RequestChange {
	w := &watcher{wake: make(chan struct{}, 1), pending: map[string]string{}}
	c := &s.changes
	c.mu.Lock()
	if c.watchers == nil {
		c.watchers = map[*watcher]struct{}{}
	}
	c.watchers[w] = struct{}{}
	c.mu.Unlock()
	out := make(chan tickets.RequestChange)
	go func() {
		defer close(out)
		defer func() {
			c.mu.Lock()
			delete(c.watchers, w)
			c.mu.Unlock()
		}()
		for {
			ch, ok := w.take()
			if !ok {
				select {
				case <-w.wake:
					continue
				case <-ctx.Done():
					return
				}
			}
			select {
			case out <- ch:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}
