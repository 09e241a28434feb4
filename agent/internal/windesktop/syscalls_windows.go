package windesktop

import "golang.org/x/sys/windows"

// The system calls this package makes that golang.org/x/sys/windows does not wrap. Lazy procs
// of system DLLs are how x/sys itself reaches Windows; they load on first use, from system32.
var (
	user32   = windows.NewLazySystemDLL("user32.dll")
	gdi32    = windows.NewLazySystemDLL("gdi32.dll")
	kernel32 = windows.NewLazySystemDLL("kernel32.dll")

	procGetDC                    = user32.NewProc("GetDC")
	procReleaseDC                = user32.NewProc("ReleaseDC")
	procGetSystemMetrics         = user32.NewProc("GetSystemMetrics")
	procGetCursorInfo            = user32.NewProc("GetCursorInfo")
	procGetIconInfo              = user32.NewProc("GetIconInfo")
	procLoadCursor               = user32.NewProc("LoadCursorW")
	procSendInput                = user32.NewProc("SendInput")
	procVkKeyScanW               = user32.NewProc("VkKeyScanW")
	procMapVirtualKeyW           = user32.NewProc("MapVirtualKeyW")
	procOpenInputDesktop         = user32.NewProc("OpenInputDesktop")
	procCloseDesktop             = user32.NewProc("CloseDesktop")
	procGetThreadDesktop         = user32.NewProc("GetThreadDesktop")
	procGetUserObjectInformation = user32.NewProc("GetUserObjectInformationW")
	procSetProcessDPIAware       = user32.NewProc("SetProcessDPIAware")
	procSetDpiAwarenessContext   = user32.NewProc("SetProcessDpiAwarenessContext")
	procOpenClipboard            = user32.NewProc("OpenClipboard")
	procCloseClipboard           = user32.NewProc("CloseClipboard")
	procEmptyClipboard           = user32.NewProc("EmptyClipboard")
	procGetClipboardData         = user32.NewProc("GetClipboardData")
	procSetClipboardData         = user32.NewProc("SetClipboardData")

	procCreateCompatibleDC = gdi32.NewProc("CreateCompatibleDC")
	procDeleteDC           = gdi32.NewProc("DeleteDC")
	procCreateDIBSection   = gdi32.NewProc("CreateDIBSection")
	procSelectObject       = gdi32.NewProc("SelectObject")
	procDeleteObject       = gdi32.NewProc("DeleteObject")
	procBitBlt             = gdi32.NewProc("BitBlt")
	procGdiFlush           = gdi32.NewProc("GdiFlush")
	procGetDIBits          = gdi32.NewProc("GetDIBits")

	procGlobalAlloc  = kernel32.NewProc("GlobalAlloc")
	procGlobalFree   = kernel32.NewProc("GlobalFree")
	procGlobalLock   = kernel32.NewProc("GlobalLock")
	procGlobalUnlock = kernel32.NewProc("GlobalUnlock")
	procGlobalSize   = kernel32.NewProc("GlobalSize")
)

// GetSystemMetrics indexes of the virtual screen.
const (
	smXVirtualScreen  = 76
	smYVirtualScreen  = 77
	smCXVirtualScreen = 78
	smCYVirtualScreen = 79
)
