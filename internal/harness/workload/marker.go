package workload

// MarkerColor returns the pixel colour that carries change number n (its low 24 bits).
func MarkerColor(n int) (r, g, b uint8) { return uint8(n >> 16), uint8(n >> 8), uint8(n) }

// MarkerNumber reads a change number back from a marker pixel.
func MarkerNumber(r, g, b uint8) int { return int(r)<<16 | int(g)<<8 | int(b) }
