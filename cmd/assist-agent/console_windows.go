package main

import (
	"io"
	"os"

	"golang.org/x/sys/windows"
)

// assist-agent.exe is built as a GUI-subsystem program (go build -ldflags -H=windowsgui), so that
// Windows opens no console window beside the app for the person who double-clicks it. Such a
// program gets no console of its own and, unless its parent redirected them, no standard
// handles. attachConsole, run first thing, gives the terminal mode back where there is a
// console to give it: started from cmd or PowerShell, the agent attaches to the parent's console
// (AttachConsole(ATTACH_PARENT_PROCESS)) and opens CONIN$ and CONOUT$ for the handles it lacks;
// handles the parent redirected (a script's pipe or file) are kept. Double-clicked, there is no
// parent console and nothing changes. An interactive cmd does not wait for a GUI-subsystem
// program, so for the terminal's questions there, run it with start /wait (the README says so).

var (
	kernel32          = windows.NewLazySystemDLL("kernel32.dll")
	procAttachConsole = kernel32.NewProc("AttachConsole")
	procAllocConsole  = kernel32.NewProc("AllocConsole")
)

const attachParentProcess = ^uintptr(0) // ATTACH_PARENT_PROCESS, (DWORD)-1

// stdFiles are the standard handles, the console device each reopens, and where Go keeps it.
var stdFiles = []struct {
	std    uint32
	device string
	file   **os.File
}{
	{windows.STD_INPUT_HANDLE, "CONIN$", &os.Stdin},
	{windows.STD_OUTPUT_HANDLE, "CONOUT$", &os.Stdout},
	{windows.STD_ERROR_HANDLE, "CONOUT$", &os.Stderr},
}

func attachConsole() {
	missing := missingStdHandles()
	if len(missing) == 0 {
		return
	}
	if r, _, _ := procAttachConsole.Call(attachParentProcess); r == 0 {
		return // no parent console: double-clicked
	}
	openConsoleFiles(missing)
}

// ownConsole opens a console window of the agent's own when it has none and its window could
// not open, so the person sees the questions instead of nothing; it returns the streams to ask
// on (in, out and errOut unchanged when they were usable).
func ownConsole(in io.Reader, out, errOut io.Writer) (io.Reader, io.Writer, io.Writer) {
	missing := missingStdHandles()
	if len(missing) == 0 || in != io.Reader(os.Stdin) {
		return in, out, errOut
	}
	if r, _, _ := procAllocConsole.Call(); r == 0 {
		return in, out, errOut
	}
	openConsoleFiles(missing)
	return os.Stdin, os.Stdout, os.Stderr
}

// missingStdHandles are the indexes in stdFiles of the standard handles the program started
// without (os.Stdin and the others were made from them, and are unusable).
func missingStdHandles() []int {
	var missing []int
	for i, s := range stdFiles {
		if h, err := windows.GetStdHandle(s.std); err != nil || h == 0 || h == windows.InvalidHandle {
			missing = append(missing, i)
		}
	}
	return missing
}

// openConsoleFiles opens the console, now attached, for each missing standard handle. It opens
// CONIN$ and CONOUT$ even where attaching set the handle (Wine does): os.Stdin and the others
// were made at start, from the handles as they were.
func openConsoleFiles(missing []int) {
	for _, i := range missing {
		s := stdFiles[i]
		name, err := windows.UTF16PtrFromString(s.device)
		if err != nil {
			continue
		}
		h, err := windows.CreateFile(name, windows.GENERIC_READ|windows.GENERIC_WRITE, windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, nil, windows.OPEN_EXISTING, 0, 0)
		if err != nil {
			continue
		}
		windows.SetStdHandle(s.std, h)
		*s.file = os.NewFile(uintptr(h), s.device)
	}
}
