//go:build !unix

package main

import "os"

// flockExclusive is a no-op where bbolt's lock is not an flock; assistd restore then relies on
// the admin socket to tell a running gateway.
func flockExclusive(*os.File) error { return nil }
