package workload

import (
	"bytes"
	"image"
	"testing"
)

// TestScenesDraw: a drawn scene carries its marker, is opaque, and the next scene differs.
func TestScenesDraw(t *testing.T) {
	s, err := NewScenes(640, 480)
	if err != nil {
		t.Fatal(err)
	}
	a, b := image.NewRGBA(image.Rect(0, 0, 640, 480)), image.NewRGBA(image.Rect(0, 0, 640, 480))
	s.Draw(a, 41)
	s.Draw(b, 42)
	if n := MarkerNumber(a.Pix[0], a.Pix[1], a.Pix[2]); n != 41 {
		t.Errorf("marker of scene 41 reads %d", n)
	}
	for i := 3; i < len(a.Pix); i += 4 {
		if a.Pix[i] != 0xff {
			t.Fatalf("pixel %d is not opaque", i/4)
		}
	}
	if bytes.Equal(a.Pix[4:], b.Pix[4:]) {
		t.Error("scenes 41 and 42 are the same")
	}
}
