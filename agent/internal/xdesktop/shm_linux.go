package xdesktop

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// shmAlloc makes a private System V shared-memory segment of size bytes and maps it. The segment
// is removed from the namespace by shmRelease once the X server has attached it, so it vanishes
// with the last detach even if the agent dies.
func shmAlloc(size int) (id int, data []byte, err error) {
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

// shmRelease marks the segment for removal; it stays usable until detached.
func shmRelease(id int) { unix.SysvShmCtl(id, unix.IPC_RMID, nil) }

// shmFree detaches the mapping.
func shmFree(data []byte) { unix.SysvShmDetach(data) }
