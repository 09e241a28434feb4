//go:build !unix

package cli

// RaiseFileLimit reports no limit where the system has no RLIMIT_NOFILE.
func RaiseFileLimit() (soft, hard uint64, err error) { return 0, 0, nil }
