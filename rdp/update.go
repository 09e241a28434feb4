package rdp

// Update is one answer of the agent to an update request, as the viewer received it. It
// marshals to one JSON line of a trace:
//
//	{"t":1700000000000000000,"rects":[{"x":0,"y":0,"w":8,"h":16,"enc":"zstd","bytes":71}]}
type Update struct {
	// Time is when the update was complete at the viewer, in Unix nanoseconds.
	Time int64 `json:"t"`
	// Rects are the rectangles in the order they were applied.
	Rects []RectInfo `json:"rects"`
	// Cursor is set when the pointer moved or changed shape.
	Cursor *CursorInfo `json:"cursor,omitempty"`
	// Layout is set when the agent announced a new monitor layout; the image was reset to it.
	Layout []Monitor `json:"layout,omitempty"`
}

// RectInfo describes one rectangle of an update, in virtual-screen coordinates.
type RectInfo struct {
	X int `json:"x"`
	Y int `json:"y"`
	W int `json:"w"`
	H int `json:"h"`
	// Enc is the encoding: "solid", "raw", "zstd", "palette" or "copy".
	Enc string `json:"enc"`
	// Bytes is the rectangle's size on the wire, framing included; inside the version 2 stream,
	// its size decompressed (FramebufferClient.WireBytes counts what crossed).
	Bytes int `json:"bytes"`
}

// CursorInfo describes a cursor change carried by an update.
type CursorInfo struct {
	X int `json:"x"`
	Y int `json:"y"`
	// Shape is true when the cursor image changed (FramebufferClient.Cursor has it).
	Shape bool `json:"shape,omitempty"`
	// Bytes is the size of the cursor messages on the wire.
	Bytes int `json:"bytes"`
}
