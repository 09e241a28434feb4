// Package wine runs the Windows build of assist's programs under Wine, drawing on a private Xvfb,
// for tests and benchmarks on a machine without Windows. Debian's wine64 (Wine 8.0) runs Go's
// windows/amd64 binaries once one gap is closed: Go's runtime loads bcryptprimitives.dll for
// ProcessPrng, which Wine 8.0 lacks. Start builds a small DLL that exports ProcessPrng by calling
// BCryptGenRandom (with x86_64-w64-mingw32-gcc) and puts it into the new prefix's system32, the
// only place Go loads system DLLs from. The DLL is test scaffolding: nothing ships it.
package wine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// ErrNoWine is wrapped by Start's error when no Wine loader is installed.
var ErrNoWine = errors.New("wine is not installed (scripts/deps.sh installs the wine64 package)")

// Env is one Wine prefix whose programs draw on one X display.
type Env struct {
	Display string // the X display Wine draws on, ":N"
	Prefix  string // WINEPREFIX
	loader  string
	server  string
}

// loaders are where Debian puts Wine's 64-bit loader; PATH is searched first.
var loaders = []string{"wine64", "/usr/lib/wine/wine64", "wine"}

// FindLoader returns the path of the Wine loader, or an error wrapping ErrNoWine.
func FindLoader() (string, error) {
	for _, l := range loaders {
		if p, err := exec.LookPath(l); err == nil {
			return p, nil
		}
	}
	return "", ErrNoWine
}

// Start makes a new Wine prefix in dir (which must not exist yet or be empty) for display:
// wineboot initialises it (about 15 s the first time on a loaded 2-core machine) and the
// ProcessPrng shim goes into its system32.
func Start(ctx context.Context, dir, display string) (*Env, error) {
	loader, err := FindLoader()
	if err != nil {
		return nil, err
	}
	e := &Env{Display: display, Prefix: filepath.Join(dir, "prefix"), loader: loader, server: wineserver(loader)}
	dll := filepath.Join(dir, "bcryptprimitives.dll")
	if err := buildShim(ctx, dir, dll); err != nil {
		return nil, err
	}
	if _, stderr, err := e.Output(ctx, "wineboot", "--init"); err != nil {
		return nil, fmt.Errorf("wine: wineboot --init: %w: %s", err, bytes.TrimSpace(stderr))
	}
	if err := copyFile(dll, filepath.Join(e.Prefix, "drive_c", "windows", "system32", "bcryptprimitives.dll")); err != nil {
		return nil, fmt.Errorf("wine: install the ProcessPrng shim: %w", err)
	}
	// Wine activates a window when a window manager offers it the focus (WM_TAKE_FOCUS); on an
	// Xvfb there is none, so without this a test's xdotool windowfocus moves the X focus but
	// not Windows' (after a dialog closes, the keys went on to the window Windows chose).
	// UseTakeFocus=N makes Wine follow the X focus.
	if _, stderr, err := e.Output(ctx, "reg", "add", `HKCU\Software\Wine\X11 Driver`, "/v", "UseTakeFocus", "/t", "REG_SZ", "/d", "N", "/f"); err != nil {
		return nil, fmt.Errorf("wine: set UseTakeFocus: %w: %s", err, bytes.TrimSpace(stderr))
	}
	return e, nil
}

// wineserver finds the wineserver beside the loader (Debian: /usr/lib/wine/wineserver).
func wineserver(loader string) string {
	for _, name := range []string{"wineserver64", "wineserver"} {
		if p := filepath.Join(filepath.Dir(loader), name); isFile(p) {
			return p
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Environ is the environment Wine programs of this prefix run with: WINEDEBUG=-all keeps Wine's
// own diagnostics out of the programs' output, and the mscoree/mshtml overrides stop wineboot
// from asking (in a window nobody sees) to download Mono and Gecko.
func (e *Env) Environ() []string {
	return append(os.Environ(),
		"WINEPREFIX="+e.Prefix,
		"WINEDEBUG=-all",
		"WINEDLLOVERRIDES=mscoree,mshtml=",
		"DISPLAY="+e.Display,
	)
}

// Command returns a command that runs the Windows program exe (a Linux path, or a name Wine
// finds, such as "cmd") under Wine.
func (e *Env) Command(ctx context.Context, exe string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, e.loader, append([]string{exe}, args...)...)
	cmd.Env = e.Environ()
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// Output runs a Windows program to its end and returns its standard output and error.
func (e *Env) Output(ctx context.Context, exe string, args ...string) (stdout, stderr []byte, err error) {
	return Output(e.Command(ctx, exe, args...))
}

// Output runs cmd, a command of Env.Command, to its end and returns its standard output and
// error. They are collected through files, not pipes: the wineserver and explorer that the
// first program of a prefix starts live on after it and would hold a pipe open.
func Output(cmd *exec.Cmd) (stdout, stderr []byte, err error) {
	outf, err := os.CreateTemp("", "wine-stdout-")
	if err != nil {
		return nil, nil, err
	}
	defer os.Remove(outf.Name())
	defer outf.Close()
	errf, err := os.CreateTemp("", "wine-stderr-")
	if err != nil {
		return nil, nil, err
	}
	defer os.Remove(errf.Name())
	defer errf.Close()
	cmd.Stdout, cmd.Stderr = outf, errf
	err = cmd.Run()
	stdout, _ = os.ReadFile(outf.Name())
	stderr, _ = os.ReadFile(errf.Name())
	return stdout, stderr, err
}

// WindowsPath is the path a Windows program sees for a Linux path: Wine maps / to drive Z:.
func WindowsPath(p string) string { return `Z:` + strings.ReplaceAll(p, "/", `\`) }

// Close stops every program of the prefix and its wineserver, and waits for them.
func (e *Env) Close() error {
	if e.server == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	kill := exec.CommandContext(ctx, e.server, "-k")
	kill.Env = e.Environ()
	kill.Run() // fails when no wineserver runs: nothing to stop
	wait := exec.CommandContext(ctx, e.server, "-w")
	wait.Env = e.Environ()
	return wait.Run()
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o644)
}

// CommandOnTerminal is Command with the program on a terminal of its own, as a person's console
// window would be: util-linux's script gives Wine a pseudo-terminal, on which Wine makes the
// program a console. What is written to the command's standard input is typed on that console;
// its standard output is the console's screen (with the terminal's escape sequences).
func (e *Env) CommandOnTerminal(ctx context.Context, exe string, args ...string) *exec.Cmd {
	line := shellQuote(e.loader)
	for _, a := range append([]string{exe}, args...) {
		line += " " + shellQuote(a)
	}
	cmd := exec.CommandContext(ctx, "script", "--quiet", "--return", "--command", line, "/dev/null")
	cmd.Env = e.Environ()
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
