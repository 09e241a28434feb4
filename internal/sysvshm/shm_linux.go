// Package sysvshm makes the System V shared-memory segments that X's MIT-SHM extension reads and
// writes images through: the agent's capture and the bench's workload drawing.
package sysvshm

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Alloc makes a private segment of size bytes and maps it. Release it once the X server has
// attached it, so that it vanishes with the last detach even if the program dies.
func Alloc(size int) (id int, data []byte, err error) {
	id, err = unix.SysvShmGet(unix.IPC_PRIVATE, size, unix.IPC_CREAT|0o600)
	if err != nil {
		return 0, nil, fmt.Errorf("shmget %d bytes: %w", size, err)
	}
	data, err = unix.SysvShmAttach(id, 0, 0)
	if err != nil {
		unix.SysvShmCtl(id, unix.IPC_RMID, nil)
		return 0, nil, fmt.Errorf("shmat: %w", err)
	}
	return id, data, nil
}

// Release marks the segment for removal; it stays usable until detached.
func Release(id int) { unix.SysvShmCtl(id, unix.IPC_RMID, nil) }

// Free detaches the mapping.
func Free(data []byte) { unix.SysvShmDetach(data) }
