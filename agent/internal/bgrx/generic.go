//go:build !amd64 && !arm64

package bgrx

import "encoding/binary"

// ToRGBA converts a row of n pixels from src (B, G, R, pad) to dst (RGBA), two pixels per
// 64-bit word, with loads that are safe on architectures that fault on unaligned access.
func ToRGBA(dst, src []byte, n int) {
	src = src[:n*4]
	dst = dst[:n*4]
	i := 0
	for ; i+8 <= len(src); i += 8 {
		binary.LittleEndian.PutUint64(dst[i:i+8:i+8], swap2(binary.LittleEndian.Uint64(src[i:i+8:i+8])))
	}
	if i < len(src) {
		binary.LittleEndian.PutUint32(dst[i:], swap1(binary.LittleEndian.Uint32(src[i:])))
	}
}
