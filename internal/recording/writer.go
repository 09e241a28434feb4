package recording

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/klauspost/compress/zstd"
)

// Writer appends records to a recording. It holds one chunk's records (about 1 MiB) and the
// zstd encoder's state, whatever the session's length. After a failed write every call fails
// with the same error: the file ends with the last whole chunk.
//
// A Writer is not safe for concurrent use.
type Writer struct {
	w   io.Writer
	enc *zstd.Encoder
	err error

	buf         []byte // the open chunk's records
	first, last time.Duration
	records     uint32
	flags       uint8
	stored      int // bytes of the open chunk's records that came compressed (AddCompressed)

	prev    Hash
	chunks  int
	written int64
	body    []byte
}

// NewWriter writes the file header to w and returns a writer for the records.
func NewWriter(w io.Writer) (*Writer, error) {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
		zstd.WithLowerEncoderMem(true))
	if err != nil {
		return nil, fmt.Errorf("recording: zstd: %w", err)
	}
	n, err := w.Write(fileHeader())
	if err != nil {
		return nil, fmt.Errorf("recording: write header: %w", err)
	}
	return &Writer{w: w, enc: enc, prev: headerHash(), written: int64(n)}, nil
}

// Add appends a record. Times must not go backwards; the writer holds a time that does at the
// previous one. The chunk is written out once it holds about 1 MiB.
func (w *Writer) Add(k Kind, t time.Duration, channel uint64, data []byte) error {
	if w.err != nil {
		return w.err
	}
	if len(data) > MaxRecord {
		return fmt.Errorf("recording: a %s record of %d bytes is over the limit of %d", k, len(data), MaxRecord)
	}
	if t < w.last {
		t = w.last
	}
	if w.records == 0 {
		w.first = t
	}
	w.last = t
	var hdr [1 + 3*binary.MaxVarintLen64]byte
	h := append(hdr[:0], byte(k))
	h = binary.AppendUvarint(h, uint64(t))
	h = binary.AppendUvarint(h, channel)
	w.buf = binary.AppendUvarint(w.buf, uint64(len(h)+len(data)))
	w.buf = append(append(w.buf, h...), data...)
	w.records++
	if len(w.buf) >= chunkTarget {
		return w.Flush()
	}
	return nil
}

// AddCompressed appends a record whose data is compressed already (a stream message of the
// agent's). A chunk whose records are nine tenths such is stored as it is: compressing it again
// would cost time and gain nothing. (Below that, as for typing's small updates, the records'
// framing and the update requests around them are worth compressing.)
func (w *Writer) AddCompressed(k Kind, t time.Duration, channel uint64, data []byte) error {
	if err := w.Add(k, t, channel, data); err != nil || w.records == 0 {
		return err
	}
	w.stored += len(data)
	return nil
}

// StartKeyFrame closes the open chunk, so that the next record (a key frame's first) starts
// one, flagged for seeking.
func (w *Writer) StartKeyFrame() error {
	if err := w.Flush(); err != nil {
		return err
	}
	w.flags |= FlagKeyFrame
	return nil
}

// Flush writes the open chunk, if it holds anything.
func (w *Writer) Flush() error {
	if w.err != nil || w.records == 0 {
		return w.err
	}
	if 10*w.stored >= 9*len(w.buf) {
		w.flags |= FlagStored
		w.body = append(w.body[:0], w.buf...)
	} else {
		w.body = w.enc.EncodeAll(w.buf, w.body[:0])
	}
	if len(w.body) > MaxChunkBody {
		w.err = fmt.Errorf("recording: a chunk compressed to %d bytes, over the limit of %d", len(w.body), MaxChunkBody)
		return w.err
	}
	hdr := make([]byte, 0, chunkHeaderSize)
	hdr = binary.BigEndian.AppendUint32(hdr, uint32(len(w.body)))
	hdr = append(hdr, w.flags)
	hdr = binary.BigEndian.AppendUint64(hdr, uint64(w.first))
	hdr = binary.BigEndian.AppendUint64(hdr, uint64(w.last))
	hdr = binary.BigEndian.AppendUint32(hdr, w.records)
	sum := chunkHash(w.prev, hdr, w.body)
	hdr = append(hdr, sum[:]...)
	if _, err := w.w.Write(append(hdr, w.body...)); err != nil {
		w.err = fmt.Errorf("recording: write chunk %d: %w", w.chunks, err)
		return w.err
	}
	w.prev = sum
	w.chunks++
	w.written += int64(len(hdr) + len(w.body))
	w.buf, w.records, w.flags, w.stored = w.buf[:0], 0, 0, 0
	if cap(w.buf) > 4*chunkTarget { // a key frame's rectangles should not pin memory
		w.buf = nil
	}
	return nil
}

// Pending is how many bytes of records wait in the open chunk.
func (w *Writer) Pending() int { return len(w.buf) }

// Close writes the open chunk and returns what seals the file. It does not close the
// underlying writer.
func (w *Writer) Close() (Summary, error) {
	err := w.Flush()
	w.enc.Close()
	return w.Summary(), err
}

// Summary is what the writer has written so far: whole chunks only.
func (w *Writer) Summary() Summary {
	return Summary{Hash: w.prev, Chunks: w.chunks, Bytes: w.written, Duration: w.last}
}

func chunkHash(prev Hash, hdr, body []byte) Hash {
	h := sha256.New()
	h.Write(prev[:])
	h.Write(hdr)
	h.Write(body)
	var sum Hash
	h.Sum(sum[:0])
	return sum
}
