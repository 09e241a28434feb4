package bgrx

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

func noise(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n*4)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func TestToRGBATail(t *testing.T) {
	src := []byte{1, 2, 3, 9, 4, 5, 6, 9, 7, 8, 9, 9}
	dst := make([]byte, len(src))
	ToRGBA(dst, src, 3)
	want := []byte{3, 2, 1, 255, 6, 5, 4, 255, 9, 8, 7, 255}
	if !bytes.Equal(dst, want) {
		t.Fatalf("got %v, want %v", dst, want)
	}
}

func TestToRGBAMatchesPerPixel(t *testing.T) {
	for n := range 9 {
		src := noise(n, uint64(n))
		got, want := make([]byte, n*4), make([]byte, n*4)
		ToRGBA(got, src, n)
		perPixel(want, src, n)
		if !bytes.Equal(got, want) {
			t.Fatalf("n=%d: got %v, want %v", n, got, want)
		}
	}
}

func FuzzToRGBA(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	f.Fuzz(func(t *testing.T, src []byte) {
		n := len(src) / 4
		got, want := make([]byte, n*4), make([]byte, n*4)
		ToRGBA(got, src, n)
		perPixel(want, src, n)
		if !bytes.Equal(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	})
}

// perPixel is the straightforward loop, kept to show what the word-wise one saves.
func perPixel(dst, src []byte, n int) {
	for i := 0; i < n*4; i += 4 {
		dst[i], dst[i+1], dst[i+2], dst[i+3] = src[i+2], src[i+1], src[i], 0xff
	}
}

// safe64 is the portable two-pixels-per-word loop with encoding/binary's bounds checks.
func safe64(dst, src []byte, n int) {
	src, dst = src[:n*4], dst[:n*4]
	for i := 0; i+8 <= len(src); i += 8 {
		binary.LittleEndian.PutUint64(dst[i:i+8:i+8], swap2(binary.LittleEndian.Uint64(src[i:i+8:i+8])))
	}
}

func bench1080p(b *testing.B, convert func(dst, src []byte, n int)) {
	src := noise(1920*1080, 3)
	dst := make([]byte, len(src))
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		convert(dst, src, 1920*1080)
	}
}

func BenchmarkToRGBA1080p(b *testing.B)   { bench1080p(b, ToRGBA) }
func BenchmarkPerPixel1080p(b *testing.B) { bench1080p(b, perPixel) }
func BenchmarkSafe64_1080p(b *testing.B)  { bench1080p(b, safe64) }
