//go:build !windows

package main

import "io"

// attachConsole: only Windows starts a program without its parent's terminal
// (console_windows.go).
func attachConsole() {}

func ownConsole(in io.Reader, out, errOut io.Writer) (io.Reader, io.Writer, io.Writer) {
	return in, out, errOut
}
