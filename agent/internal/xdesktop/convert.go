package xdesktop

import (
	"encoding/binary"
)

// bgrxToRGBA converts one row of n pixels in the X server's little-endian 32-bit TrueColor layout
// (bytes B, G, R, unused) to image.RGBA bytes (R, G, B, 255). It works on two pixels per 64-bit
// word: G stays in place, B and R swap, alpha is forced opaque (the X pad byte is undefined).
// The byte-wise loads and stores compile to single 8-byte moves.
func bgrxToRGBA(dst, src []byte, n int) {
	dst = dst[:n*4]
	src = src[:n*4]
	i := 0
	for ; i+8 <= len(src); i += 8 {
		v := binary.LittleEndian.Uint64(src[i:])
		v = v&0x0000ff000000ff00 | v&0x000000ff000000ff<<16 | v>>16&0x000000ff000000ff | 0xff000000ff000000
		binary.LittleEndian.PutUint64(dst[i:], v)
	}
	if i < len(src) {
		v := binary.LittleEndian.Uint32(src[i:])
		v = v&0x0000ff00 | v&0x000000ff<<16 | v>>16&0x000000ff | 0xff000000
		binary.LittleEndian.PutUint32(dst[i:], v)
	}
}
