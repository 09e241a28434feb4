//go:build !linux

package xdesktop

import "errors"

// Off Linux the capture reads pixels with plain GetImage; MIT-SHM needs System V segments that
// this package only sets up on Linux.
func shmAlloc(size int) (int, []byte, error) {
	return 0, nil, errors.New("shared memory not supported here")
}
func shmRelease(id int)   {}
func shmFree(data []byte) {}
