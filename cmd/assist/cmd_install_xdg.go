//go:build !windows && !darwin

package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// On Linux and the BSDs the association follows freedesktop.org: a shared-mime-info package
// teaches the desktop that *.otc is application/x-assist-otc, a desktop entry says assist opens
// that type, and xdg-mime makes it the default.
const (
	desktopFileName = "assist.desktop"
	mimePackageName = "assist-otc.xml"
)

const mimePackage = `<?xml version="1.0" encoding="UTF-8"?>
<mime-info xmlns="http://www.freedesktop.org/standards/shared-mime-info">
  <mime-type type="` + otcMIMEType + `">
    <comment>` + otcTypeName + `</comment>
    <glob pattern="*` + otcExtension + `"/>
    <magic priority="50">
      <match type="string" offset="0" value="# assist one-time connection file"/>
    </magic>
  </mime-type>
</mime-info>
`

// desktopEntry runs assist connect FILE in a terminal: the viewer reports progress and errors
// there (an expired file, a person who declined), and closing it ends the session.
func desktopEntry(exe string) string {
	return "[Desktop Entry]\n" +
		"Type=Application\n" +
		"Name=assist Remote Connect\n" +
		"Comment=Open an " + otcTypeName + " from the help desk\n" +
		"Exec=" + desktopExec(exe) + " connect %f\n" +
		"MimeType=" + otcMIMEType + ";\n" +
		"Terminal=true\n" +
		"NoDisplay=true\n" +
		"Categories=Network;RemoteAccess;\n"
}

// desktopExec writes a program path as the first word of a desktop entry's Exec key: quoted
// when it holds a reserved character (with " ` $ \ escaped inside the quotes), % doubled so it
// is no field code, and then \ doubled once more by the string escaping that the Desktop Entry
// Specification applies before the quoting.
func desktopExec(path string) string {
	arg := path
	if strings.ContainsAny(path, " \t\n\"'\\><~|&;$*?#()`") {
		arg = `"` + strings.NewReplacer(`"`, `\"`, "`", "\\`", `$`, `\$`, `\`, `\\`).Replace(path) + `"`
	}
	arg = strings.ReplaceAll(arg, "%", "%%")
	return strings.ReplaceAll(arg, `\`, `\\`)
}

type xdgDirs struct {
	data, config string
}

// userDirs are the XDG base directories: $XDG_DATA_HOME and $XDG_CONFIG_HOME when absolute, else
// ~/.local/share and ~/.config.
func userDirs() (xdgDirs, error) {
	home, err := os.UserHomeDir()
	pick := func(env, fallback string) (string, error) {
		if v := os.Getenv(env); filepath.IsAbs(v) {
			return v, nil
		}
		if err != nil {
			return "", fmt.Errorf("find home directory for %s: %w", env, err)
		}
		return filepath.Join(home, fallback), nil
	}
	var d xdgDirs
	if d.data, err = pick("XDG_DATA_HOME", ".local/share"); err != nil {
		return d, err
	}
	d.config, err = pick("XDG_CONFIG_HOME", ".config")
	return d, err
}

func (d xdgDirs) mimePackage() string {
	return filepath.Join(d.data, "mime", "packages", mimePackageName)
}
func (d xdgDirs) desktopFile() string { return filepath.Join(d.data, "applications", desktopFileName) }

// mimeappsLists are where xdg-mime and desktops record default applications (the second is the
// older, deprecated place, which some tools still write).
func (d xdgDirs) mimeappsLists() []string {
	return []string{filepath.Join(d.config, "mimeapps.list"), filepath.Join(d.data, "applications", "mimeapps.list")}
}

func installAssociation(exe string, out io.Writer) error {
	d, err := userDirs()
	if err != nil {
		return err
	}
	warnIfTemporary(exe, out)
	if err := writeFileAtomic(d.mimePackage(), []byte(mimePackage)); err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote %s (%s, *%s)\n", d.mimePackage(), otcMIMEType, otcExtension)
	refreshMIMEDatabase(d, out)
	if err := writeFileAtomic(d.desktopFile(), []byte(desktopEntry(exe))); err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote %s (runs %s connect FILE)\n", d.desktopFile(), exe)
	refreshDesktopDatabase(d, out)
	if err := setDefault(d, out); err != nil {
		return err
	}
	fmt.Fprintf(out, "%s files now open with assist connect\n", otcExtension)
	return nil
}

func uninstallAssociation(out io.Writer) error {
	d, err := userDirs()
	if err != nil {
		return err
	}
	for _, p := range []string{d.desktopFile(), d.mimePackage()} {
		switch err := os.Remove(p); {
		case err == nil:
			fmt.Fprintf(out, "removed %s\n", p)
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("remove %s: %w", p, err)
		}
	}
	for _, p := range d.mimeappsLists() {
		changed, err := editFile(p, removeDefault)
		if err != nil {
			return err
		}
		if changed {
			fmt.Fprintf(out, "removed the %s default from %s\n", otcMIMEType, p)
		}
	}
	refreshMIMEDatabase(d, out)
	refreshDesktopDatabase(d, out)
	fmt.Fprintf(out, "%s files are no longer associated with assist\n", otcExtension)
	return nil
}

// setDefault makes assist.desktop the default for the type with xdg-mime, or, where xdg-mime is
// missing, writes the same [Default Applications] line that xdg-mime writes.
func setDefault(d xdgDirs, out io.Writer) error {
	if path, err := exec.LookPath("xdg-mime"); err == nil {
		if err := run(path, "default", desktopFileName, otcMIMEType); err != nil {
			return fmt.Errorf("xdg-mime default: %w", err)
		}
		return nil
	}
	fmt.Fprintln(out, "note: xdg-mime not found (package xdg-utils); writing mimeapps.list directly")
	_, err := editFile(d.mimeappsLists()[0], setDefaultLine)
	return err
}

// refreshMIMEDatabase rebuilds the user's MIME cache; without it desktops do not know *.otc yet.
func refreshMIMEDatabase(d xdgDirs, out io.Writer) {
	dir := filepath.Join(d.data, "mime")
	if _, err := os.Stat(dir); err != nil {
		return
	}
	path, err := exec.LookPath("update-mime-database")
	if err != nil {
		fmt.Fprintln(out, "warning: update-mime-database not found (package shared-mime-info); file managers will not know *.otc until it runs")
		return
	}
	if err := run(path, dir); err != nil {
		fmt.Fprintf(out, "warning: update-mime-database: %v\n", err)
	}
}

// refreshDesktopDatabase updates the applications' MIME cache where the tool exists; desktops
// that do not use the cache read the .desktop files themselves, so its absence is fine.
func refreshDesktopDatabase(d xdgDirs, out io.Writer) {
	dir := filepath.Join(d.data, "applications")
	path, err := exec.LookPath("update-desktop-database")
	if err != nil {
		return
	}
	if _, err := os.Stat(dir); err != nil {
		return
	}
	if err := run(path, dir); err != nil {
		fmt.Fprintf(out, "warning: update-desktop-database: %v\n", err)
	}
}

func run(path string, args ...string) error {
	var stderr bytes.Buffer
	cmd := exec.Command(path, args...)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return fmt.Errorf("%w: %s", err, msg)
		}
		return err
	}
	return nil
}

// writeFileAtomic replaces path with data (0644), creating its directory: a reader never sees
// half a file, and writing the same content again changes nothing.
func writeFileAtomic(path string, data []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// editFile applies edit to a file's content and writes it back if it changed; a missing file is
// empty (and stays missing if the edit leaves it empty).
func editFile(path string, edit func([]byte) []byte) (bool, error) {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("read %s: %w", path, err)
	}
	updated := edit(old)
	if bytes.Equal(old, updated) {
		return false, nil
	}
	return true, writeFileAtomic(path, updated)
}
