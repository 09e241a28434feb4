package recording

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// sample writes a recording of n records across several chunks, a key frame in the middle, and
// returns its bytes, the records written and the summary.
func sample(t testing.TB, n, size int) ([]byte, []Record, Summary) {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	meta, _ := json.Marshal(Meta{Session: "s1", Request: "AAAA-BBBB", Technician: "alice", Started: time.Unix(1700000000, 0).UTC()})
	recs := []Record{{Kind: KindMeta, Data: meta}}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 1; i < n; i++ {
		data := make([]byte, rng.IntN(size))
		for j := range data {
			data[j] = byte(rng.IntN(4)) // compressible, like screen updates
		}
		recs = append(recs, Record{Kind: KindScreen, Time: time.Duration(i) * time.Millisecond, Channel: 1, Data: data})
	}
	for i, r := range recs {
		if i == n/2 {
			if err := w.StartKeyFrame(); err != nil {
				t.Fatal(err)
			}
			recs[i].Kind = KindKeyFrame
			r.Kind = KindKeyFrame
		}
		if err := w.Add(r.Kind, r.Time, r.Channel, r.Data); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if sum.Bytes != int64(buf.Len()) {
		t.Fatalf("summary says %d bytes, wrote %d", sum.Bytes, buf.Len())
	}
	return buf.Bytes(), recs, sum
}

func readAll(t testing.TB, b []byte) ([]Record, *Reader, error) {
	t.Helper()
	r, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, nil, err
	}
	var out []Record
	for i := range r.Chunks {
		if err := r.Records(i, func(rec Record) error {
			rec.Data = bytes.Clone(rec.Data)
			out = append(out, rec)
			return nil
		}); err != nil {
			return out, r, err
		}
	}
	if r.Damage != nil {
		return out, r, r.Damage
	}
	return out, r, nil
}

func TestRoundTrip(t *testing.T) {
	b, want, sum := sample(t, 200, 40000)
	got, r, err := readAll(t, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("read %d records, wrote %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Kind != want[i].Kind || got[i].Time != want[i].Time || got[i].Channel != want[i].Channel || !bytes.Equal(got[i].Data, want[i].Data) {
			t.Fatalf("record %d differs", i)
		}
	}
	if len(r.Chunks) < 3 || sum.Chunks != len(r.Chunks) {
		t.Fatalf("%d chunks (summary %d), want several", len(r.Chunks), sum.Chunks)
	}
	vs, err := r.Verify()
	if err != nil || vs != sum {
		t.Fatalf("verify: %+v, %v; writer said %+v", vs, err, sum)
	}
	m, err := r.Meta()
	if err != nil || m.Request != "AAAA-BBBB" {
		t.Fatalf("meta %+v, %v", m, err)
	}
	k := r.KeyFrameBefore(r.Duration())
	if !r.Chunks[k].KeyFrame || r.Chunks[k].First != want[100].Time {
		t.Errorf("key frame chunk %d starts at %v, want the key frame at %v", k, r.Chunks[k].First, want[100].Time)
	}
	if r.KeyFrameBefore(want[99].Time) != 0 {
		t.Error("a time before the key frame seeks from it")
	}
}

// TestOneEditedByteShows edits each region of the file in turn (a header field, a hash, a
// body) and checks that reading stops at that chunk, with everything before it intact.
func TestOneEditedByteShows(t *testing.T) {
	b, _, sum := sample(t, 120, 40000)
	r, _ := Open(bytes.NewReader(b), int64(len(b)))
	for _, c := range r.Chunks {
		for _, off := range []int64{c.Offset + 2, c.Offset + 10, c.Offset + 30, c.Offset + chunkHeaderSize + int64(c.Size)/2} {
			edited := bytes.Clone(b)
			edited[off] ^= 0x01
			got, rr, err := readAll(t, edited)
			var de *DamageError
			if !errors.As(err, &de) {
				t.Fatalf("byte %d edited: err %v, want damage", off, err)
			}
			if de.Offset > off || (rr != nil && len(rr.Chunks) > 0 && de.Offset < c.Offset) {
				t.Fatalf("byte %d edited: damage reported at %d, chunk at %d", off, de.Offset, c.Offset)
			}
			if len(got) == 0 && c.Offset > headerSize {
				t.Fatalf("byte %d edited: nothing before it plays", off)
			}
			if rr != nil {
				if s, _ := rr.Verify(); s.Hash == sum.Hash {
					t.Fatalf("byte %d edited: the seal still matches", off)
				}
			}
		}
	}
}

func TestCutRecordingPlaysToTheCut(t *testing.T) {
	b, want, sum := sample(t, 120, 40000)
	r, _ := Open(bytes.NewReader(b), int64(len(b)))
	last := r.Chunks[len(r.Chunks)-1]
	for _, cut := range []int64{last.Offset, last.Offset + 5, last.Offset + chunkHeaderSize + 3} {
		got, rr, err := readAll(t, b[:cut])
		if cut == last.Offset {
			if err != nil {
				t.Fatalf("cut between chunks: %v", err)
			}
			if s, _ := rr.Verify(); s.Hash == sum.Hash {
				t.Fatal("a recording cut between chunks keeps the seal")
			}
		} else {
			var de *DamageError
			if !errors.As(err, &de) || de.Offset != last.Offset {
				t.Fatalf("cut at %d: %v, want damage at %d", cut, err, last.Offset)
			}
		}
		if len(got) != len(want)-last.Records {
			t.Fatalf("cut at %d: %d records play, want %d", cut, len(got), len(want)-last.Records)
		}
	}
}

func TestNotARecording(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("hello world"), append([]byte(magic), 9)} {
		if _, err := Open(bytes.NewReader(b), int64(len(b))); err == nil {
			t.Errorf("%q opened", b)
		}
	}
}

// FuzzReader reads arbitrary files: it must never panic, allocate without bound or hand out a
// record from a chunk that fails its hash. Seeds: a written sample and real recordings in
// testdata/ (made by the gateway in sshd's recording test).
func FuzzReader(f *testing.F) {
	b, _, _ := sample(f, 30, 300)
	f.Add(b)
	seeds, _ := filepath.Glob("testdata/*.rec")
	for _, p := range seeds {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		defer r.Close()
		r.Verify()
		r.Meta()
		for i := range r.Chunks {
			if err := r.Records(i, func(rec Record) error {
				if len(rec.Data) > MaxRecord+32 {
					return fmt.Errorf("record of %d bytes", len(rec.Data))
				}
				return nil
			}); err != nil && !errors.Is(err, ErrDamaged) {
				t.Fatal(err)
			}
		}
	})
}

// TestStoredChunks: records that came compressed (the agent's stream) are stored as they are,
// chunks of other records compressed, and both read back; a version 1 file still reads.
func TestStoredChunks(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var want []Record
	for i := range 300 {
		data := make([]byte, rng.IntN(20000))
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		rec := Record{Kind: KindScreen, Time: time.Duration(i) * time.Millisecond, Channel: 1, Data: data}
		add := w.AddCompressed
		if i == 200 {
			w.Flush()
		}
		if i >= 200 { // input-like records: small and compressible
			rec.Kind, rec.Data, add = KindInput, bytes.Repeat([]byte{byte(i)}, 40), w.Add
		}
		if i == 100 {
			w.StartKeyFrame()
		}
		if err := add(rec.Kind, rec.Time, rec.Channel, rec.Data); err != nil {
			t.Fatal(err)
		}
		want = append(want, rec)
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, r, err := readAll(t, buf.Bytes())
	if err != nil || len(got) != len(want) {
		t.Fatalf("read %d records (%v), wrote %d", len(got), err, len(want))
	}
	for i := range want {
		if got[i].Kind != want[i].Kind || got[i].Time != want[i].Time || !bytes.Equal(got[i].Data, want[i].Data) {
			t.Fatalf("record %d differs", i)
		}
	}
	first, last := r.Chunks[0], r.Chunks[len(r.Chunks)-1]
	if !first.Stored || last.Stored || last.Size > 4000 {
		t.Errorf("first chunk stored %v, last (input only) stored %v in %d bytes; want the stream stored, the input compressed", first.Stored, last.Stored, last.Size)
	}
	if _, err := r.Verify(); err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile("testdata/session.rec")
	if err != nil || old[len(magic)] != 1 {
		t.Fatalf("the version 1 sample: %v", err)
	}
	if _, _, err := readAll(t, old); err != nil {
		t.Fatalf("a version 1 recording: %v", err)
	}
	real, err := os.ReadFile("testdata/session-stream.rec") // a real session's start
	if err != nil {
		t.Fatal(err)
	}
	if _, r, err := readAll(t, real); err != nil || !slices.ContainsFunc(r.Chunks, func(c Chunk) bool { return c.Stored }) {
		t.Fatalf("the real recording with the agent's stream: %v, no stored chunk", err)
	}
}
