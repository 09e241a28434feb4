package tickets

import (
	"bytes"
	"slices"
	"sync"
)

// openCache keeps the open requests the last full list decoded, each with the stored bytes it
// was decoded from. A list compares every stored value with the cached bytes and decodes only
// what changed, so listing the open requests costs a comparison a row rather than a JSON decode,
// and it stays true to the transaction it reads in: a value that differs is decoded afresh.
// Neither a published map nor a cached request is ever written again, so lists read them
// without holding the lock, and a list that found nothing changed publishes nothing.
type openCache struct {
	mu   sync.Mutex
	byID map[string]*cachedRequest
}

type cachedRequest struct {
	key string
	raw []byte
	r   Request
}

// openDecoder decodes the stored values of one list against the cache as it was when the list
// began, and gathers the next cache when the list sees every open request.
type openDecoder struct {
	c       *openCache
	old     map[string]*cachedRequest
	full    bool             // the list reads every open request
	seen    []*cachedRequest // what a full list read
	changed bool             // a value was not in old as it is stored now
}

func (c *openCache) decoder(full bool) *openDecoder {
	c.mu.Lock()
	d := &openDecoder{c: c, old: c.byID, full: full}
	c.mu.Unlock()
	if full {
		d.seen = make([]*cachedRequest, 0, len(d.old))
	}
	return d
}

// size is how many open requests the last full list read: what this one will likely list.
func (d *openDecoder) size() int { return len(d.old) }

// decode is the request stored under key as raw (bytes valid only in the transaction).
func (d *openDecoder) decode(key, raw []byte) (Request, error) {
	c := d.old[string(key)]
	if c == nil || !bytes.Equal(c.raw, raw) {
		// Afresh, into a new cached request: decoding over the old one would keep a field the
		// new value omits (an owner released, omitempty), and other lists may be reading it.
		c = &cachedRequest{key: string(key), raw: bytes.Clone(raw)}
		if err := decode(raw, &c.r); err != nil {
			return Request{}, err
		}
		d.changed = true
	}
	if d.full {
		d.seen = append(d.seen, c)
	}
	r := c.r
	r.Notes = slices.Clone(r.Notes) // the cached request's are shared by every list
	return r, nil
}

// done publishes what a full list decoded: the open requests of its transaction, so the cache
// holds no more than the open requests. When every one was cached as it is stored, and no other
// was, the cache is already that and stays.
func (d *openDecoder) done() {
	if !d.full || (!d.changed && len(d.seen) == len(d.old)) {
		return
	}
	next := make(map[string]*cachedRequest, len(d.seen))
	for _, c := range d.seen {
		next[c.key] = c
	}
	d.c.mu.Lock()
	defer d.c.mu.Unlock()
	d.c.byID = next
}
