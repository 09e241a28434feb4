package workload

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// shmAlloc makes and maps a private System V segment; shmRelease marks it for removal once the X
// server has attached it, so it cannot outlive the program.
func shmAlloc(size int) (int, []byte, error) {
	id, err := unix.SysvShmGet(unix.IPC_PRIVATE, size, unix.IPC_CREAT|0o600)
	if err != nil {
		return 0, nil, fmt.Errorf("shmget: %w", err)
	}
	data, err := unix.SysvShmAttach(id, 0, 0)
	if err != nil {
		unix.SysvShmCtl(id, unix.IPC_RMID, nil)
		return 0, nil, fmt.Errorf("shmat: %w", err)
	}
	return id, data, nil
}

func shmRelease(id int)   { unix.SysvShmCtl(id, unix.IPC_RMID, nil) }
func shmFree(data []byte) { unix.SysvShmDetach(data) }
