package main

import (
	"fmt"
	"os/exec"
	"runtime"
)

// openBrowser asks the desktop to open url in the technician's browser. It returns once the
// opener started; whether a browser appears is the desktop's business.
func openBrowser(url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("open a browser: %w", err)
	}
	go cmd.Wait() // reap it; xdg-open may outlive us or not
	return nil
}
