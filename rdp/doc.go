// Package rdp is assist's remote-desktop wire protocol: framebuffer updates and input events, each
// on its own SSH channel (named in package protocol). It imports nothing of the project; the agent
// serves it, the viewer speaks it.
package rdp
