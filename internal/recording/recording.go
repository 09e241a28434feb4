// Package recording is the file format of a session recording: what crossed the gateway during
// one one-time session, each record with a monotonic timestamp, in zstd-compressed chunks whose
// hashes chain, so an edited, cut or reordered file shows. It knows nothing of what the records
// mean: the gateway's recorder writes them and the technician's player reads them.
//
// A file is a header, then chunks, appended and never rewritten:
//
//	header:  "ASSISTREC" u8 version (2; 1 is read too)
//	chunk:   u32 body length   u8 flags   u64 first time   u64 last time   u32 records
//	         [32] hash         body (one zstd frame, or the records as they are)
//
// Integers are big-endian; times are nanoseconds since the recording started. Flag bit 0 says the
// chunk starts with a key frame; bit 1 (version 2) that the body is stored, not compressed: most
// of its bytes were compressed already (the agent's framebuffer stream, kept as it crossed). The hash is SHA-256 over the previous chunk's hash (for the first
// chunk, SHA-256 of the header), the chunk's header without the hash, and the body, so each chunk
// can be checked on its own given its predecessor's, and the last chunk's hash seals the file.
//
// The body decodes to records:
//
//	record:  uvarint n (the bytes after it)   u8 kind   uvarint time   uvarint channel   data
//
// docs/recording.md describes the kinds.
package recording

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Kind says what a record holds.
type Kind uint8

// Record kinds. Numbers are part of the format and never reused.
const (
	// KindMeta is a JSON Meta, the first record of a file.
	KindMeta Kind = 1
	// KindScreen is one framebuffer message from the agent to the technician, as it crossed.
	KindScreen Kind = 2
	// KindScreenRequest is one framebuffer message from the technician to the agent.
	KindScreenRequest Kind = 3
	// KindInput is one input message from the technician to the agent; clipboard text is not
	// kept here but as a KindClipboard record.
	KindInput Kind = 4
	// KindInputReply is one input message from the agent to the technician, clipboard aside.
	KindInputReply Kind = 5
	// KindClipboard is a JSON Clipboard: a clipboard transfer's direction and size.
	KindClipboard Kind = 6
	// KindFile is a JSON object: an SFTP operation the gateway read from the stream.
	KindFile Kind = 7
	// KindConsent is a JSON object: the person's answer, or a change of it.
	KindConsent Kind = 8
	// KindKeyFrame is one framebuffer message of a key frame: messages that bring a new
	// decoder to the screen as it was at that time (layout first, update end last).
	KindKeyFrame Kind = 9
	// KindChannel is a JSON Channel: a desktop channel opened or closed.
	KindChannel Kind = 10
	// KindNote is a JSON Note: the recorder's own words (it stopped, and why).
	KindNote Kind = 11
)

var kindNames = map[Kind]string{KindMeta: "meta", KindScreen: "screen", KindScreenRequest: "screen-request",
	KindInput: "input", KindInputReply: "input-reply", KindClipboard: "clipboard", KindFile: "file",
	KindConsent: "consent", KindKeyFrame: "key-frame", KindChannel: "channel", KindNote: "note"}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind-%d", uint8(k))
}

// Record is one record: what, when, on which channel (0 when none).
type Record struct {
	Kind    Kind
	Time    time.Duration
	Channel uint64
	Data    []byte
}

// Meta is the first record: whose session this is.
type Meta struct {
	Session    string    `json:"session"` // the credential's ID
	Request    string    `json:"request"` // the request code
	Technician string    `json:"technician"`
	Started    time.Time `json:"started"`
	// ClipboardText says whether clipboard records carry the text, not only its size.
	ClipboardText bool `json:"clipboard_text"`
}

// Clipboard is a clipboard transfer.
type Clipboard struct {
	ToAgent bool   `json:"to_agent"` // technician → person; false: person → technician
	Size    int    `json:"size"`
	Text    string `json:"text,omitempty"` // only with Meta.ClipboardText
}

// Channel is a desktop channel opening or closing.
type Channel struct {
	Type   string `json:"type"`
	Closed bool   `json:"closed,omitempty"`
}

// Note is the recorder speaking for itself.
type Note struct {
	Text string `json:"text"`
}

// Limits, checked before anything is allocated.
const (
	magic      = "ASSISTREC"
	version    = 2
	headerSize = 10 // magic and version
	// chunkHeaderSize is a chunk's header with its hash.
	chunkHeaderSize = 4 + 1 + 8 + 8 + 4 + sha256.Size
	// MaxRecord bounds one record's data: a desktop message is at most 1 MiB and 64 bytes.
	MaxRecord = 2 << 20
	// MaxChunkBody bounds a chunk's compressed body, and maxChunkData what it decodes to.
	MaxChunkBody = 16 << 20
	maxChunkData = 16 << 20
	// chunkTarget is the decoded size at which the writer closes a chunk.
	chunkTarget = 1 << 20
)

// Chunk flags.
const (
	// FlagKeyFrame marks a chunk whose first record starts a key frame: recorded key-frame
	// records, or the agent's key batch (rdp.StartsKeyBatch).
	FlagKeyFrame = 1
	// FlagStored marks a chunk whose body is its records, not compressed.
	FlagStored = 2
)

// Hash is a chunk's hash, and the last one a recording's.
type Hash [sha256.Size]byte

func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// ParseHash reads a Hash as String writes it.
func ParseHash(s string) (Hash, error) {
	var h Hash
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(h) {
		return h, fmt.Errorf("recording hash %q: want %d hex digits", s, 2*len(h))
	}
	copy(h[:], b)
	return h, nil
}

// headerHash is what the first chunk's hash chains from.
func headerHash() Hash { return sha256.Sum256(fileHeader()) }

func fileHeader() []byte { return append([]byte(magic), version) }

// Summary is what seals a recording in the audit trail.
type Summary struct {
	Hash     Hash
	Chunks   int
	Bytes    int64
	Duration time.Duration
}

// DamageError says where a recording stops being readable. Everything before Offset plays.
type DamageError struct {
	Offset int64         // the byte where the damaged chunk starts
	Chunk  int           // its number, from 0
	Time   time.Duration // how far into the session the good part reaches
	Reason string
}

func (e *DamageError) Error() string {
	return fmt.Sprintf("recording damaged at byte %d (chunk %d, %s into the session): %s", e.Offset, e.Chunk, formatClock(e.Time), e.Reason)
}

// ErrDamaged is matched by every DamageError.
var ErrDamaged = errors.New("recording damaged")

func (e *DamageError) Is(target error) bool { return target == ErrDamaged }

func formatClock(d time.Duration) string {
	s := int64(d / time.Second)
	return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
}
