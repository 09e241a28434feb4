//go:build !linux

package workload

import "errors"

func shmAlloc(size int) (int, []byte, error) {
	return 0, nil, errors.New("shared memory not supported here")
}
func shmRelease(id int)   {}
func shmFree(data []byte) {}
