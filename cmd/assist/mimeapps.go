//go:build !windows && !darwin

package main

import (
	"bytes"
	"strings"
)

// mimeapps.list is an ini file ("[Default Applications]", "type=a.desktop;b.desktop;"). These
// edits touch only the lines of our type and keep every other byte, comments included.

const defaultSection = "[Default Applications]"

// removeDefault drops assist.desktop from every list of our type, and the line when nothing
// else is left on it.
func removeDefault(content []byte) []byte {
	var out bytes.Buffer
	for _, line := range splitLines(content) {
		key, value, ok := strings.Cut(strings.TrimRight(line, "\r\n"), "=")
		if !ok || strings.TrimSpace(key) != otcMIMEType {
			out.WriteString(line)
			continue
		}
		var keep []string
		for _, app := range strings.Split(value, ";") {
			if app = strings.TrimSpace(app); app != "" && app != desktopFileName {
				keep = append(keep, app)
			}
		}
		if len(keep) > 0 {
			out.WriteString(otcMIMEType + "=" + strings.Join(keep, ";") + ";\n")
		}
	}
	return out.Bytes()
}

// setDefaultLine makes assist.desktop the default of our type, as xdg-mime does where it is
// not installed.
func setDefaultLine(content []byte) []byte {
	var out bytes.Buffer
	lines := splitLines(removeDefault(content))
	entry := otcMIMEType + "=" + desktopFileName + "\n"
	inserted := false
	for _, line := range lines {
		out.WriteString(line)
		if !inserted && strings.TrimSpace(line) == defaultSection {
			if !strings.HasSuffix(line, "\n") {
				out.WriteString("\n")
			}
			out.WriteString(entry)
			inserted = true
		}
	}
	if !inserted {
		if out.Len() > 0 && !bytes.HasSuffix(out.Bytes(), []byte("\n")) {
			out.WriteString("\n")
		}
		out.WriteString(defaultSection + "\n" + entry)
	}
	return out.Bytes()
}

// splitLines splits after each newline, keeping it, so that joining gives the input back.
func splitLines(b []byte) []string {
	var lines []string
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			lines = append(lines, string(b))
			break
		}
		lines = append(lines, string(b[:i+1]))
		b = b[i+1:]
	}
	return lines
}
