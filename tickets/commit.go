package tickets

import (
	"errors"
	"runtime/debug"
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"
)

// commitQueue is group commit: writes from many connections share one transaction and so one
// fsync. One goroutine commits; whatever queued while it committed goes into the next
// transaction, so a lone write waits for nothing but its own fsync, and many concurrent writes
// wait for about one fsync each instead of queueing for one each. A write's caller hears the
// result only after its transaction is durable.
//
// bbolt's own DB.Batch does the same with a timer (10 ms by default) that every batch waits for,
// even a batch of one.
type commitQueue struct {
	db   *bolt.DB
	path string
	ops  chan *commitOp
	quit chan struct{}
	done chan struct{}

	mu     sync.RWMutex // held for reading while sending, so Close never races a send
	closed bool

	commits atomic.Uint64 // transactions committed, for benchmarks
}

type commitOp struct {
	fn  func(*bolt.Tx) error
	err chan error
}

// maxGroup bounds a transaction's writes, so one transaction stays small enough to commit fast.
const maxGroup = 1000

var errStoreClosed = errors.New("store closed")

func newCommitQueue(db *bolt.DB, path string) *commitQueue {
	q := &commitQueue{db: db, path: path, ops: make(chan *commitOp, maxGroup), quit: make(chan struct{}), done: make(chan struct{})}
	go q.run()
	return q
}

// do runs fn in a write transaction shared with other writes and returns once it is durable. fn
// may run more than once (alone, after another write of its group failed), so it must change
// nothing but the transaction and values it sets afresh on each run.
func (q *commitQueue) do(fn func(*bolt.Tx) error) error {
	op := &commitOp{fn: fn, err: make(chan error, 1)}
	q.mu.RLock()
	if q.closed {
		q.mu.RUnlock()
		return errStoreClosed
	}
	q.ops <- op
	q.mu.RUnlock()
	return <-op.err
}

func (q *commitQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	close(q.quit)
	<-q.done
}

func (q *commitQueue) run() {
	defer close(q.done)
	debug.SetPanicOnFault(true)
	group := make([]*commitOp, 0, maxGroup)
	for {
		select {
		case op := <-q.ops:
			group = append(group[:0], op)
		case <-q.quit:
			for { // writes queued before close still commit
				select {
				case op := <-q.ops:
					q.commit([]*commitOp{op})
				default:
					return
				}
			}
		}
	gather:
		for len(group) < maxGroup {
			select {
			case op := <-q.ops:
				group = append(group, op)
			default:
				break gather
			}
		}
		q.commit(group)
	}
}

// commit runs a group in one transaction. When one write fails, the transaction is rolled back,
// that write is run alone (so its caller hears its own error) and the others are committed
// without it.
func (q *commitQueue) commit(group []*commitOp) {
	for len(group) > 0 {
		failed := -1
		err := q.update(func(tx *bolt.Tx) error {
			for i, op := range group {
				if err := op.fn(tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed < 0 || len(group) == 1 {
			for _, op := range group {
				op.err <- err
			}
			return
		}
		op := group[failed]
		op.err <- q.update(op.fn)
		group = append(group[:failed:failed], group[failed+1:]...)
	}
}

// update is one transaction behind a recover, as Bolt.update.
func (q *commitQueue) update(fn func(*bolt.Tx) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = damaged(q.path, r)
		}
	}()
	err = q.db.Update(fn)
	if err == nil {
		q.commits.Add(1)
	}
	return err
}
