//go:build !linux

// Package sysvshm makes the System V shared-memory segments that X's MIT-SHM extension reads and
// writes images through: the agent's capture and the bench's workload drawing.
package sysvshm

import "errors"

// Alloc fails off Linux: its callers then read and write pixels with plain X requests.
func Alloc(size int) (int, []byte, error) {
	return 0, nil, errors.New("shared memory not supported here")
}

func Release(id int)   {}
func Free(data []byte) {}
