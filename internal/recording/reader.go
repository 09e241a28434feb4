package recording

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/klauspost/compress/zstd"
)

// Chunk is one chunk's header as the index holds it.
type Chunk struct {
	Offset      int64 // where its header starts
	Size        int   // its compressed body
	KeyFrame    bool
	Stored      bool // the body is not compressed
	First, Last time.Duration
	Records     int
	Hash        Hash // as stored
	prev        Hash // the stored hash of the chunk before
}

// Reader reads a recording: its index from the chunks' headers at once, the chunks' records on
// demand, each checked against its hash. What it holds is the index (57 bytes a chunk, about one
// chunk a second) and one chunk.
type Reader struct {
	r      io.ReaderAt
	size   int64
	Chunks []Chunk
	// Damage is where the index stops before the end of the file (a cut or garbled header),
	// nil if every header up to the end reads. A chunk's body may still fail its hash.
	Damage *DamageError
	dec    *zstd.Decoder
	flags  uint8 // the chunk flags this file's version knows
	start  Hash  // the header's hash: what the first chunk's chains from
	body   []byte
	data   []byte
}

// Open reads the header and every chunk's header of a recording of size bytes.
func Open(r io.ReaderAt, size int64) (*Reader, error) {
	hdr := make([]byte, headerSize)
	if _, err := r.ReadAt(hdr, 0); err != nil {
		return nil, fmt.Errorf("recording: read header: %w", err)
	}
	if string(hdr[:len(magic)]) != magic {
		return nil, errors.New("recording: not a recording (no ASSISTREC header)")
	}
	v := hdr[len(magic)]
	if v != 1 && v != version {
		return nil, fmt.Errorf("recording: format version %d; this build reads versions 1 and %d", v, version)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxChunkData))
	if err != nil {
		return nil, fmt.Errorf("recording: zstd: %w", err)
	}
	rd := &Reader{r: r, size: size, dec: dec, flags: FlagKeyFrame, start: sha256.Sum256(hdr)}
	if v >= 2 {
		rd.flags |= FlagStored
	}
	rd.index()
	return rd, nil
}

// Close frees the decoder.
func (r *Reader) Close() { r.dec.Close() }

func (r *Reader) index() {
	off, prev, last := int64(headerSize), r.start, time.Duration(0)
	var h [chunkHeaderSize]byte
	for off < r.size {
		damaged := func(why string) {
			r.Damage = &DamageError{Offset: off, Chunk: len(r.Chunks), Time: last, Reason: why}
		}
		if r.size-off < chunkHeaderSize {
			damaged(fmt.Sprintf("the file ends %d bytes into a chunk header (cut short)", r.size-off))
			return
		}
		if _, err := r.r.ReadAt(h[:], off); err != nil {
			damaged(fmt.Sprintf("read chunk header: %v", err))
			return
		}
		c := Chunk{Offset: off, Size: int(binary.BigEndian.Uint32(h[0:])), KeyFrame: h[4]&FlagKeyFrame != 0, Stored: h[4]&FlagStored != 0,
			First: time.Duration(binary.BigEndian.Uint64(h[5:])), Last: time.Duration(binary.BigEndian.Uint64(h[13:])),
			Records: int(binary.BigEndian.Uint32(h[21:])), prev: prev}
		copy(c.Hash[:], h[25:])
		switch {
		case c.Size > MaxChunkBody:
			damaged(fmt.Sprintf("chunk body of %d bytes, over the limit of %d", c.Size, MaxChunkBody))
			return
		case h[4]&^r.flags != 0:
			damaged(fmt.Sprintf("unknown chunk flags %#x", h[4]))
			return
		case c.First < last || c.Last < c.First:
			damaged("times go backwards")
			return
		case c.Records == 0:
			damaged("a chunk with no records")
			return
		case r.size-off-chunkHeaderSize < int64(c.Size):
			damaged(fmt.Sprintf("the file ends %d bytes into a chunk of %d (cut short)", r.size-off-chunkHeaderSize, c.Size))
			return
		}
		r.Chunks = append(r.Chunks, c)
		off += chunkHeaderSize + int64(c.Size)
		prev, last = c.Hash, c.Last
	}
}

// Duration is how far the readable index reaches.
func (r *Reader) Duration() time.Duration {
	if len(r.Chunks) == 0 {
		return 0
	}
	return r.Chunks[len(r.Chunks)-1].Last
}

// Records reads chunk i, checks it against its hash and calls fn with each record in order. A
// record's Data is valid only during the call. A damaged chunk is a *DamageError, before any of
// its records reaches fn.
func (r *Reader) Records(i int, fn func(Record) error) error {
	c := r.Chunks[i]
	damaged := func(format string, args ...any) error {
		var t time.Duration
		if i > 0 {
			t = r.Chunks[i-1].Last
		}
		return &DamageError{Offset: c.Offset, Chunk: i, Time: t, Reason: fmt.Sprintf(format, args...)}
	}
	if cap(r.body) < chunkHeaderSize+c.Size {
		r.body = make([]byte, chunkHeaderSize+c.Size)
	}
	raw := r.body[:chunkHeaderSize+c.Size]
	if _, err := r.r.ReadAt(raw, c.Offset); err != nil {
		return damaged("read: %v", err)
	}
	if chunkHash(c.prev, raw[:chunkHeaderSize-len(c.Hash)], raw[chunkHeaderSize:]) != c.Hash {
		return damaged("hash mismatch (the chunk was changed)")
	}
	data := raw[chunkHeaderSize:]
	if !c.Stored {
		var err error
		if data, err = r.dec.DecodeAll(data, r.data[:0]); err != nil {
			return damaged("zstd: %v", err)
		}
		r.data = data
	}
	// Parse everything first, so a bad chunk delivers no records at all.
	recs, err := parseRecords(data, c)
	if err != nil {
		return damaged("%v", err)
	}
	for _, rec := range recs {
		if err := fn(rec); err != nil {
			return err
		}
	}
	return nil
}

// parseRecords splits a chunk's decoded body into records, checking them against its header.
func parseRecords(data []byte, c Chunk) ([]Record, error) {
	recs := make([]Record, 0, min(c.Records, len(data)/3+1))
	last := c.First
	for len(data) > 0 {
		n, k := binary.Uvarint(data)
		if k <= 0 || n > uint64(len(data)-k) || n > MaxRecord+32 {
			return nil, fmt.Errorf("record %d: bad length", len(recs))
		}
		rec := data[k : k+int(n)]
		data = data[k+int(n):]
		if len(rec) < 1 {
			return nil, fmt.Errorf("record %d: empty", len(recs))
		}
		kind := Kind(rec[0])
		t, k1 := binary.Uvarint(rec[1:])
		if k1 <= 0 {
			return nil, fmt.Errorf("record %d: bad time", len(recs))
		}
		ch, k2 := binary.Uvarint(rec[1+k1:])
		if k2 <= 0 {
			return nil, fmt.Errorf("record %d: bad channel", len(recs))
		}
		tt := time.Duration(t)
		if tt < last || tt > c.Last || t > 1<<62 {
			return nil, fmt.Errorf("record %d: time %v outside the chunk's %v–%v", len(recs), tt, c.First, c.Last)
		}
		last = tt
		recs = append(recs, Record{Kind: kind, Time: tt, Channel: ch, Data: rec[1+k1+k2:]})
	}
	if len(recs) != c.Records {
		return nil, fmt.Errorf("%d records, the header says %d", len(recs), c.Records)
	}
	if recs[0].Time != c.First {
		return nil, fmt.Errorf("first record at %v, the header says %v", recs[0].Time, c.First)
	}
	return recs, nil
}

// Verify reads every chunk and checks the chain. It returns what the file's whole chunks
// seal, and the first damage (the index's or a chunk's), nil if there is none.
func (r *Reader) Verify() (Summary, error) {
	s := Summary{Hash: r.start, Bytes: headerSize}
	for i, c := range r.Chunks {
		if err := r.Records(i, func(Record) error { return nil }); err != nil {
			return s, err
		}
		s.Hash, s.Chunks, s.Duration = c.Hash, i+1, c.Last
		s.Bytes += chunkHeaderSize + int64(c.Size)
	}
	if r.Damage != nil {
		return s, r.Damage
	}
	return s, nil
}

// Meta returns the first record's Meta, read from the first chunk.
func (r *Reader) Meta() (Meta, error) {
	var m Meta
	raw, err := r.rawMeta()
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return m, fmt.Errorf("recording: meta: %w", err)
	}
	return m, nil
}

func (r *Reader) rawMeta() ([]byte, error) {
	if len(r.Chunks) == 0 {
		return nil, errors.New("recording: no chunks")
	}
	var meta []byte
	stop := errors.New("stop")
	err := r.Records(0, func(rec Record) error {
		if rec.Kind == KindMeta {
			meta = bytes.Clone(rec.Data)
		}
		return stop
	})
	if err != nil && err != stop {
		return nil, err
	}
	if meta == nil {
		return nil, errors.New("recording: the first record is not its meta")
	}
	return meta, nil
}

// KeyFrameBefore is the last chunk at or before t that starts with a key frame, or 0 (the
// start, which needs none) when there is none.
func (r *Reader) KeyFrameBefore(t time.Duration) int {
	best := 0
	for i, c := range r.Chunks {
		if c.First > t {
			break
		}
		if c.KeyFrame {
			best = i
		}
	}
	return best
}
