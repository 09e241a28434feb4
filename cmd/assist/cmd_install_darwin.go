//go:build darwin

package main

import (
	"fmt"
	"io"
)

// macOS binds file types to application bundles (Info.plist's CFBundleDocumentTypes, registered
// with Launch Services); a bare command-line program cannot be made a file's handler. Building
// an assist.app is outside what assist ships today, so install says how to open the files.

func installAssociation(exe string, out io.Writer) error {
	warnIfTemporary(exe, out)
	fmt.Fprintf(out, `assist cannot register itself for %s files on macOS: macOS opens files only with
application bundles (.app), and assist is a command-line program; an assist.app is not part
of assist yet. Nothing was changed.

Open the file that the help desk's Open Connection downloaded with:
  %s connect ~/Downloads/CODE%s
`, otcExtension, exe, otcExtension)
	return nil
}

func uninstallAssociation(out io.Writer) error {
	fmt.Fprintf(out, "nothing to remove: assist install registers nothing on macOS\n")
	return nil
}
