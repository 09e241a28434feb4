//go:build unix

package uitrace

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// FIFO makes a named pipe for an app to write its trace to and reads what comes through it. It
// is for a program that can be given a path but not a pipe's descriptor, such as the Windows
// agent under Wine (which opens it as Z:\…). Reading starts when the app opens the pipe; a test
// that ends first unblocks the reader.
func FIFO(tb testing.TB) (path string, t *Trace) {
	tb.Helper()
	path = filepath.Join(tb.TempDir(), "ui-trace")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		tb.Fatalf("make the trace's pipe: %v", err)
	}
	r, w := io.Pipe()
	go func() {
		f, err := os.Open(path) // blocks until the app opens the other end
		if err != nil {
			w.CloseWithError(err)
			return
		}
		defer f.Close()
		_, err = io.Copy(w, f)
		w.CloseWithError(err)
	}()
	tb.Cleanup(func() {
		// Opening the writing end lets a reader still waiting for the app go; its copy ends
		// when this end closes (the app's, if it opened it, closed when it exited).
		if f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	})
	return path, Read(r)
}
