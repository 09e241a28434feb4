// Package rdp is assist's remote-desktop wire protocol: framebuffer updates and input events, each
// on its own SSH channel. It imports nothing of the project; the agent serves it, the viewer speaks it.
package rdp

// Channel types, in SSH's name@domain form. The gateway accepts these from a one-time session
// and opens the same type to the agent.
const (
	FramebufferChannel = "framebuffer@assist.dev"
	InputChannel       = "input@assist.dev"
)
