package xvfb

import (
	"fmt"
	"image"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// Xdotool runs xdotool (package xdotool) with args against display and returns what it printed,
// trimmed: real X input and window queries, as the GUI tests drive the person's windows.
func Xdotool(display string, args ...string) (string, error) {
	cmd := exec.Command("xdotool", args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("xdotool %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

// WindowGeometry is X window id's rectangle on the screen of display.
func WindowGeometry(display, id string) (image.Rectangle, error) {
	out, err := Xdotool(display, "getwindowgeometry", "--shell", id)
	if err != nil {
		return image.Rectangle{}, err
	}
	v := map[string]int{}
	for _, l := range strings.Fields(out) {
		k, val, _ := strings.Cut(l, "=")
		v[k], _ = strconv.Atoi(val)
	}
	return image.Rect(v["X"], v["Y"], v["X"]+v["WIDTH"], v["Y"]+v["HEIGHT"]), nil
}
