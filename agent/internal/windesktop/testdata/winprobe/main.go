//go:build windows

// winprobe is the Windows program the Wine tests type into, click on and share the clipboard
// with. "window DIR" shows a full-screen window painted with a known pattern, writes "ready" to
// DIR/ready once painted, appends every character it receives (WM_CHAR, CR as LF) to DIR/typed
// and every left click's position to DIR/clicks. "clip-get" prints the clipboard's text;
// "clip-set TEXT" sets it. "detached EXE ARGS…" runs EXE as cmd.exe runs a program on Windows:
// in winprobe's console, handing it no standard handles, and waits for it. "start CODEFILE EXE
// ARGS…" runs EXE as a program of its own, with winprobe's standard handles, and once it has
// ended writes its exit code, as Windows gives it, to CODEFILE. "topmost TITLE" prints "topmost"
// or "not topmost" for the top-level window titled TITLE (WS_EX_TOPMOST), and fails when there is
// none. "trayicon CLASS ID" prints "present" when the window of class CLASS has its notification
// area icon ID in the shell, "absent" otherwise.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"unicode/utf16"
	"unsafe"

	"golang.org/x/sys/windows"
)

var (
	user32   = windows.NewLazySystemDLL("user32.dll")
	gdi32    = windows.NewLazySystemDLL("gdi32.dll")
	kernel32 = windows.NewLazySystemDLL("kernel32.dll")
)

func call(dll *windows.LazyDLL, name string, args ...uintptr) uintptr {
	r, _, _ := dll.NewProc(name).Call(args...)
	return r
}

type wndClassEx struct {
	size, style                        uint32
	wndProc                            uintptr
	clsExtra, wndExtra                 int32
	instance, icon, cursor, background uintptr
	menuName, className                *uint16
	iconSm                             uintptr
}

type msg struct {
	hwnd           uintptr
	message        uint32
	wParam, lParam uintptr
	time           uint32
	x, y           int32
	private        uint32
}

type rect struct{ left, top, right, bottom int32 }

type paintStruct struct {
	hdc       uintptr
	erase     int32
	rc        rect
	restore   int32
	incUpdate int32
	reserved  [32]byte
	_         [4]byte
}

// Pattern is the picture the window shows: a background and three blocks, in 0xBBGGRR.
var pattern = []struct {
	r   rect
	rgb uintptr
}{
	{rect{0, 0, 1 << 14, 1 << 14}, 0x996633},
	{rect{40, 40, 240, 140}, 0x0000ff},
	{rect{300, 200, 420, 260}, 0x00ff00},
	{rect{600, 500, 601, 700}, 0xffffff},
}

func main() {
	runtime.LockOSThread()
	var err error
	switch {
	case len(os.Args) == 3 && os.Args[1] == "window":
		err = window(os.Args[2])
	case len(os.Args) == 2 && os.Args[1] == "clip-get":
		var s string
		if s, err = clipGet(); err == nil {
			fmt.Print(s)
		}
	case len(os.Args) == 3 && os.Args[1] == "clip-set":
		err = clipSet(os.Args[2])
	case len(os.Args) >= 3 && os.Args[1] == "detached":
		var code uint32
		if code, err = detached(os.Args[2:]); err == nil {
			os.Exit(int(code))
		}
	case len(os.Args) >= 4 && os.Args[1] == "start":
		err = start(os.Args[2], os.Args[3:])
	case len(os.Args) == 3 && os.Args[1] == "topmost":
		var s string
		if s, err = topmost(os.Args[2]); err == nil {
			fmt.Println(s)
		}
	case len(os.Args) == 4 && os.Args[1] == "trayicon":
		var s string
		if s, err = trayIcon(os.Args[2], os.Args[3]); err == nil {
			fmt.Println(s)
		}
	default:
		err = fmt.Errorf("usage: winprobe window DIR | clip-get | clip-set TEXT | detached EXE ARGS… | start CODEFILE EXE ARGS… | topmost TITLE | trayicon CLASS ID")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "winprobe:", err)
		os.Exit(1)
	}
}

func appendFile(path, s string) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, "winprobe:", err)
		return
	}
	f.WriteString(s)
	f.Close()
}

func window(dir string) error {
	var high uint16 // a UTF-16 high surrogate waiting for its pair
	painted := false
	proc := windows.NewCallback(func(hwnd, m, wp, lp uintptr) uintptr {
		switch m {
		case 0x000f: // WM_PAINT
			var ps paintStruct
			hdc := call(user32, "BeginPaint", hwnd, uintptr(unsafe.Pointer(&ps)))
			for _, p := range pattern {
				b := call(gdi32, "CreateSolidBrush", p.rgb)
				call(user32, "FillRect", hdc, uintptr(unsafe.Pointer(&p.r)), b)
				call(gdi32, "DeleteObject", b)
			}
			call(user32, "EndPaint", hwnd, uintptr(unsafe.Pointer(&ps)))
			call(gdi32, "GdiFlush")
			if !painted {
				painted = true
				appendFile(filepath.Join(dir, "ready"), "ready\n")
			}
			return 0
		case 0x0102: // WM_CHAR
			u := uint16(wp)
			switch {
			case utf16.IsSurrogate(rune(u)) && high == 0:
				high = u
				return 0
			case high != 0:
				appendFile(filepath.Join(dir, "typed"), string(utf16.DecodeRune(rune(high), rune(u))))
				high = 0
			case u == '\r':
				appendFile(filepath.Join(dir, "typed"), "\n")
			default:
				appendFile(filepath.Join(dir, "typed"), string(rune(u)))
			}
			return 0
		case 0x0201: // WM_LBUTTONDOWN: client coordinates, which are the screen's here
			appendFile(filepath.Join(dir, "clicks"), fmt.Sprintf("%d %d\n", int16(lp), int16(lp>>16)))
			return 0
		case 0x0002: // WM_DESTROY
			call(user32, "PostQuitMessage", 0)
			return 0
		}
		return call(user32, "DefWindowProcW", hwnd, m, wp, lp)
	})
	inst := call(kernel32, "GetModuleHandleW", 0)
	cls, _ := windows.UTF16PtrFromString("winprobe")
	wc := wndClassEx{wndProc: proc, instance: inst, className: cls, cursor: call(user32, "LoadCursorW", 0, 32512)}
	wc.size = uint32(unsafe.Sizeof(wc))
	if call(user32, "RegisterClassExW", uintptr(unsafe.Pointer(&wc))) == 0 {
		return fmt.Errorf("RegisterClassExW failed")
	}
	w, h := call(user32, "GetSystemMetrics", 0), call(user32, "GetSystemMetrics", 1)
	const wsPopup, wsVisible, wsExTopmost = 0x80000000, 0x10000000, 0x8
	hwnd := call(user32, "CreateWindowExW", wsExTopmost, uintptr(unsafe.Pointer(cls)), uintptr(unsafe.Pointer(cls)), wsPopup|wsVisible, 0, 0, w, h, 0, 0, inst, 0)
	if hwnd == 0 {
		return fmt.Errorf("CreateWindowExW failed")
	}
	call(user32, "SetForegroundWindow", hwnd)
	call(user32, "SetFocus", hwnd)
	var m msg
	for int32(call(user32, "GetMessageW", uintptr(unsafe.Pointer(&m)), 0, 0, 0)) > 0 {
		call(user32, "TranslateMessage", uintptr(unsafe.Pointer(&m)))
		call(user32, "DispatchMessageW", uintptr(unsafe.Pointer(&m)))
	}
	return nil
}

func clipGet() (string, error) {
	if call(user32, "OpenClipboard", 0) == 0 {
		return "", fmt.Errorf("OpenClipboard failed")
	}
	defer call(user32, "CloseClipboard")
	h := call(user32, "GetClipboardData", 13)
	if h == 0 {
		return "", nil
	}
	p := call(kernel32, "GlobalLock", h)
	defer call(kernel32, "GlobalUnlock", h)
	n := call(kernel32, "GlobalSize", h) / 2
	return windows.UTF16ToString(unsafe.Slice(*(**uint16)(unsafe.Pointer(&p)), n)), nil
}

func clipSet(s string) error {
	u, err := windows.UTF16FromString(s)
	if err != nil {
		return err
	}
	h := call(kernel32, "GlobalAlloc", 2, uintptr(len(u)*2))
	p := call(kernel32, "GlobalLock", h)
	copy(unsafe.Slice(*(**uint16)(unsafe.Pointer(&p)), len(u)), u)
	call(kernel32, "GlobalUnlock", h)
	if call(user32, "OpenClipboard", 0) == 0 {
		return fmt.Errorf("OpenClipboard failed")
	}
	defer call(user32, "CloseClipboard")
	call(user32, "EmptyClipboard")
	if call(user32, "SetClipboardData", 13, h) == 0 {
		return fmt.Errorf("SetClipboardData failed")
	}
	return nil
}

// detached runs args without inheriting handles or passing standard ones (no
// STARTF_USESTDHANDLES, which os/exec always sets) and returns its exit code. A GUI-subsystem
// program started so has no standard handles, as when it is typed at a cmd.exe prompt.
func detached(args []string) (uint32, error) {
	line := windows.ComposeCommandLine(args)
	cl, err := windows.UTF16PtrFromString(line)
	if err != nil {
		return 0, err
	}
	si := windows.StartupInfo{Cb: uint32(unsafe.Sizeof(windows.StartupInfo{}))}
	var pi windows.ProcessInformation
	if err := windows.CreateProcess(nil, cl, nil, nil, false, windows.DETACHED_PROCESS, nil, nil, &si, &pi); err != nil {
		return 0, fmt.Errorf("start %s: %w", line, err)
	}
	defer windows.CloseHandle(pi.Process)
	defer windows.CloseHandle(pi.Thread)
	if _, err := windows.WaitForSingleObject(pi.Process, windows.INFINITE); err != nil {
		return 0, err
	}
	var code uint32
	err = windows.GetExitCodeProcess(pi.Process, &code)
	return code, err
}

// start runs args as a process of its own, with no console (as Explorer opens a program), handing
// it winprobe's standard handles so that what it writes reaches the test, and once it has ended
// writes its exit code to codeFile. That file, not the exit status of the Wine loader that a
// test on Linux waits for, says how a Windows program ended: wineserver kills with SIGKILL the
// Linux process of a program that has not finished exiting half a second after its last thread
// ended, which on a loaded machine happens to a program that ended well (docs/decisions.md).
// The program is in a job that ends it when winprobe ends, so a test that kills winprobe ends it
// too.
func start(codeFile string, args []string) error {
	job, err := killOnClose()
	if err != nil {
		return err
	}
	defer windows.CloseHandle(job)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &windows.SysProcAttr{CreationFlags: windows.DETACHED_PROCESS}
	if err := cmd.Start(); err != nil {
		return err
	}
	if err := joinJob(job, cmd.Process.Pid); err != nil {
		cmd.Process.Kill()
		return err
	}
	if err := cmd.Wait(); err != nil && cmd.ProcessState == nil {
		return err
	}
	tmp := codeFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(cmd.ProcessState.ExitCode())), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, codeFile) // whoever waits for the file reads it whole
}

// killOnClose makes a job whose processes end when its last handle closes.
func killOnClose() (windows.Handle, error) {
	job, err := windows.CreateJobObject(nil, nil)
	if err != nil {
		return 0, fmt.Errorf("CreateJobObject: %w", err)
	}
	info := windows.JOBOBJECT_EXTENDED_LIMIT_INFORMATION{
		BasicLimitInformation: windows.JOBOBJECT_BASIC_LIMIT_INFORMATION{LimitFlags: windows.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE},
	}
	if _, err := windows.SetInformationJobObject(job, windows.JobObjectExtendedLimitInformation, uintptr(unsafe.Pointer(&info)), uint32(unsafe.Sizeof(info))); err != nil {
		windows.CloseHandle(job)
		return 0, fmt.Errorf("SetInformationJobObject: %w", err)
	}
	return job, nil
}

func joinJob(job windows.Handle, pid int) error {
	p, err := windows.OpenProcess(windows.PROCESS_SET_QUOTA|windows.PROCESS_TERMINATE, false, uint32(pid))
	if err != nil {
		return fmt.Errorf("OpenProcess: %w", err)
	}
	defer windows.CloseHandle(p)
	if err := windows.AssignProcessToJobObject(job, p); err != nil {
		return fmt.Errorf("AssignProcessToJobObject: %w", err)
	}
	return nil
}

// topmost says whether the top-level window titled title stays above the others.
func topmost(title string) (string, error) {
	t, err := windows.UTF16PtrFromString(title)
	if err != nil {
		return "", err
	}
	hwnd := call(user32, "FindWindowW", 0, uintptr(unsafe.Pointer(t)))
	if hwnd == 0 {
		return "", fmt.Errorf("no window titled %q", title)
	}
	const gwlExStyle, wsExTopmost = ^uintptr(19), 0x8 // GWL_EXSTYLE is -20
	if call(user32, "GetWindowLongW", hwnd, gwlExStyle)&wsExTopmost != 0 {
		return "topmost", nil
	}
	return "not topmost", nil
}

// trayIcon asks the shell whether the (hidden) window of class class has its icon id: the shell
// changes an icon it has and refuses one it has not (Shell_NotifyIconW NIM_MODIFY, changing
// nothing). Another program's icon can be asked so: the shell knows icons by window and ID.
func trayIcon(class, id string) (string, error) {
	c, err := windows.UTF16PtrFromString(class)
	if err != nil {
		return "", err
	}
	n, err := strconv.ParseUint(id, 10, 32)
	if err != nil {
		return "", err
	}
	hwnd := call(user32, "FindWindowW", uintptr(unsafe.Pointer(c)), 0)
	if hwnd == 0 {
		return "absent", nil
	}
	nid := struct { // NOTIFYICONDATAW as Windows 95 had it, which every shell takes
		size             uint32
		hwnd             uintptr
		id, flags, cbMsg uint32
		icon             uintptr
		tip              [64]uint16
	}{hwnd: hwnd, id: uint32(n)}
	nid.size = uint32(unsafe.Sizeof(nid))
	const nimModify = 1
	if call(windows.NewLazySystemDLL("shell32.dll"), "Shell_NotifyIconW", nimModify, uintptr(unsafe.Pointer(&nid))) == 0 {
		return "absent", nil
	}
	return "present", nil
}
