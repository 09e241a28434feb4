//go:build unix

package main

import (
	"os"
	"syscall"
)

// flockExclusive takes the advisory lock bbolt takes on its file, without waiting.
func flockExclusive(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}
