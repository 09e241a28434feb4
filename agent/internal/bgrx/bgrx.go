// Package bgrx converts the screen pixels X servers and Windows hand out (32 bits, bytes B, G, R
// and an undefined fourth) to image.RGBA's R, G, B, A, opaque: the one pass every capture makes.
package bgrx

// The X server's little-endian 32-bit TrueColor pixels and Windows' 32-bit DIBs are bytes B, G,
// R, pad; image.RGBA wants R, G, B, A. Read as a 64-bit little-endian word, two pixels are 0xPPRRGGBB_PPRRGGBB: green
// stays, red and blue swap, alpha is forced opaque (the pad byte is undefined). The masks below
// do that for both pixels of a word at once.
const (
	maskG  = 0x0000ff000000ff00
	maskRB = 0x000000ff000000ff
	opaque = 0xff000000ff000000
)

// swap2 converts two pixels held in one little-endian 64-bit word.
func swap2(v uint64) uint64 { return v&maskG | v&maskRB<<16 | v>>16&maskRB | opaque }

// swap1 converts one pixel held in a little-endian 32-bit word.
func swap1(v uint32) uint32 { return v&0xff00 | v&0xff<<16 | v>>16&0xff | 0xff000000 }
