//go:build !windows

package gui

// prepareWindowSystem has nothing to do: the Wine workaround is Windows' (wine_windows.go).
func prepareWindowSystem() error { return nil }
