package tickets

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// bbolt follows the page ids, counts and offsets in its file without checking them against the
// file: a damaged one makes it read outside the mapped file. In a goroutine of ours, guard turns
// that fault into a DamagedError, but bbolt reads some pages in places that guard cannot reach:
// its page check (tx.Check) runs in a goroutine of its own, and Open reads the free list. There
// a fault kills the process, and a page that refers to itself recurses until the stack runs out.
// So before bbolt reads a file, walkPages reads every page bbolt can reach from the header it
// will use, from the file itself, and refuses one whose references leave the file or loop.

// boltMeta is the part of a bbolt header page that says where the pages are: a 16-byte page
// header, then magic, version, page size, flags (uint32 each), the root bucket (root page and
// sequence), free list page, high-water page, txid and an FNV-64a checksum of everything before
// it (uint64 each), in the machine's byte order.
type boltMeta struct {
	pageSize uint64
	root     uint64 // the root bucket's page
	freelist uint64 // noFreelist when the free list is not kept in the file (NoFreelistSync)
	hwm      uint64 // pages in use: ids below it
	txid     uint64
}

const (
	boltMagic      = 0xED0CDAED
	boltVersion    = 2
	boltMetaEnd    = 80
	noFreelist     = ^uint64(0)
	pageHeaderSize = 16 // id uint64, flags uint16, count uint16, overflow uint32
	elemSize       = 16 // a branch element (pos, ksize, pgid) or a leaf element (flags, pos, ksize, vsize)
	bucketHeader   = 16 // a bucket's value: root page, sequence; an inline bucket's page follows
	branchPage     = 0x01
	leafPage       = 0x02
	freelistPage   = 0x10
	bucketLeaf     = 0x01 // a leaf element's flag: the value is a bucket
	minPageSize    = 1 << 10
	maxPageSize    = 1 << 20
)

// readMeta returns the header page that bbolt opens the file with: of the two header pages
// whose magic, version and checksum hold, the one of the later transaction.
func readMeta(f io.ReaderAt) (boltMeta, bool) {
	var best boltMeta
	metas := readMetas(f)
	for _, m := range metas {
		if m.txid >= best.txid {
			best = m
		}
	}
	return best, len(metas) > 0
}

// readMetas returns the header pages whose magic, version and checksum hold. bbolt reads the
// page size from the first, and looks for the second at 4096 when the first does not hold.
func readMetas(f io.ReaderAt) []boltMeta {
	var metas []boltMeta
	pageSize := int64(0)
	for i := range 2 {
		buf := make([]byte, boltMetaEnd)
		if _, err := f.ReadAt(buf, int64(i)*pageSize); err != nil {
			break
		}
		ne := binary.NativeEndian
		h := fnv.New64a()
		h.Write(buf[16:72])
		if ne.Uint32(buf[16:]) != boltMagic || ne.Uint32(buf[20:]) != boltVersion || ne.Uint64(buf[72:]) != h.Sum64() {
			if i == 0 {
				pageSize = 4096 // look for the second header where bbolt would first
			}
			continue
		}
		m := boltMeta{pageSize: uint64(ne.Uint32(buf[24:])), root: ne.Uint64(buf[32:]), freelist: ne.Uint64(buf[48:]),
			hwm: ne.Uint64(buf[56:]), txid: ne.Uint64(buf[64:])}
		if i == 0 {
			pageSize = int64(m.pageSize)
		}
		metas = append(metas, m)
	}
	return metas
}

// pageWalk reads a bbolt file's pages as bbolt would reach them, each checked before use.
type pageWalk struct {
	f    io.ReaderAt
	m    boltMeta
	seen map[uint64]bool // pages already reached, overflow pages included
}

// walkPages checks every page that bbolt can reach from m: the free list, the root bucket's
// tree and the trees of the buckets in it. The file must hold m.hwm pages of a page size between
// minPageSize and maxPageSize (checkSize).
func walkPages(f io.ReaderAt, m boltMeta) error {
	w := &pageWalk{f: f, m: m, seen: map[uint64]bool{0: true, 1: true}}
	// Without a free list in the file bbolt rebuilds one by walking the pages, in a goroutine
	// that panics at the first damage it finds. The store always writes it.
	if m.freelist == noFreelist {
		return fmt.Errorf("the header keeps no free list")
	}
	if err := w.freelist(m.freelist); err != nil {
		return err
	}
	return w.tree(m.root)
}

// page reads page id with its overflow pages, once: a page reached twice is a loop or two
// parents, which bbolt never writes.
func (w *pageWalk) page(id uint64, flags ...uint16) ([]byte, error) {
	if id < 2 || id >= w.m.hwm {
		return nil, fmt.Errorf("page %d: outside the %d pages in use", id, w.m.hwm)
	}
	var h [pageHeaderSize]byte
	if _, err := w.f.ReadAt(h[:], int64(id*w.m.pageSize)); err != nil {
		return nil, fmt.Errorf("page %d: %w", id, err)
	}
	ne := binary.NativeEndian
	overflow := uint64(ne.Uint32(h[12:]))
	if got := ne.Uint64(h[0:]); got != id {
		return nil, fmt.Errorf("page %d: says it is page %d", id, got)
	}
	if overflow >= w.m.hwm-id {
		return nil, fmt.Errorf("page %d: %d overflow pages run past the %d pages in use", id, overflow, w.m.hwm)
	}
	if f := ne.Uint16(h[8:]); !slices.Contains(flags, f) {
		return nil, fmt.Errorf("page %d: flags %#x where a page of flags %#x belongs", id, f, flags)
	}
	for i := id; i <= id+overflow; i++ {
		if w.seen[i] {
			return nil, fmt.Errorf("page %d: reached twice", i)
		}
		w.seen[i] = true
	}
	buf := make([]byte, (overflow+1)*w.m.pageSize)
	if _, err := w.f.ReadAt(buf, int64(id*w.m.pageSize)); err != nil {
		return nil, fmt.Errorf("page %d: %w", id, err)
	}
	return buf, nil
}

// freelist checks that the free list's ids lie within its page.
func (w *pageWalk) freelist(id uint64) error {
	p, err := w.page(id, freelistPage)
	if err != nil {
		return fmt.Errorf("free list: %w", err)
	}
	n, start := uint64(binary.NativeEndian.Uint16(p[10:])), uint64(pageHeaderSize)
	if n == 0xffff { // the count overflows into the first element
		n, start = binary.NativeEndian.Uint64(p[pageHeaderSize:]), pageHeaderSize+8
	}
	if n > (uint64(len(p))-start)/8 {
		return fmt.Errorf("free list: page %d: %d ids do not fit in it", id, n)
	}
	return nil
}

// tree checks the tree of pages rooted at id.
func (w *pageWalk) tree(id uint64) error {
	p, err := w.page(id, branchPage, leafPage)
	if err != nil {
		return err
	}
	return w.node(id, p)
}

// node checks one branch or leaf page p (a page of the file, or an inline bucket's page inside
// a value) and what it refers to.
func (w *pageWalk) node(id uint64, p []byte) error {
	ne := binary.NativeEndian
	flags, n := ne.Uint16(p[8:]), uint64(ne.Uint16(p[10:]))
	if n > (uint64(len(p))-pageHeaderSize)/elemSize {
		return fmt.Errorf("page %d: %d elements do not fit in it", id, n)
	}
	if flags == branchPage && n == 0 {
		return fmt.Errorf("page %d: an empty branch", id)
	}
	for i := range n {
		at := pageHeaderSize + i*elemSize
		e := p[at : at+elemSize]
		var pos, klen, vlen uint64
		if flags == branchPage {
			pos, klen = uint64(ne.Uint32(e[0:])), uint64(ne.Uint32(e[4:]))
		} else {
			pos, klen, vlen = uint64(ne.Uint32(e[4:])), uint64(ne.Uint32(e[8:])), uint64(ne.Uint32(e[12:]))
		}
		if at+pos+klen+vlen > uint64(len(p)) { // each term is below 2^32: no overflow
			return fmt.Errorf("page %d: element %d reaches past the page", id, i)
		}
		if flags == branchPage {
			if err := w.tree(ne.Uint64(e[8:])); err != nil {
				return err
			}
			continue
		}
		if ne.Uint32(e[0:])&bucketLeaf == 0 {
			continue
		}
		v := p[at+pos+klen : at+pos+klen+vlen]
		if err := w.bucket(id, v); err != nil {
			return err
		}
	}
	return nil
}

// bucket checks a bucket's value: a bucket header, then the tree it roots or its inline page.
func (w *pageWalk) bucket(id uint64, v []byte) error {
	if len(v) < bucketHeader {
		return fmt.Errorf("page %d: a bucket of %d bytes", id, len(v))
	}
	if root := binary.NativeEndian.Uint64(v); root != 0 {
		return w.tree(root)
	}
	inline := v[bucketHeader:]
	if len(inline) < pageHeaderSize || binary.NativeEndian.Uint16(inline[8:]) != leafPage {
		return fmt.Errorf("page %d: an inline bucket that is not a leaf", id)
	}
	return w.node(id, inline)
}

// walkTx is walkPages on the file at path as the read transaction tx sees it, for a check of a
// store that is open: its pages stay as they are while tx is open. It walks nothing when neither
// header page is tx's any more (two writes committed since tx began).
func walkTx(path string, tx *bolt.Tx) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, m := range readMetas(f) {
		if m.txid == uint64(tx.ID()) && m.pageSize >= minPageSize && m.pageSize <= maxPageSize && m.hwm <= uint64(tx.Size())/m.pageSize {
			return walkPages(f, m)
		}
	}
	return nil
}
