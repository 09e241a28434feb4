package xdesktop

import (
	"context"
	"errors"
	"image"
	"testing"
	"time"
)

func covered(rs []image.Rectangle, want image.Rectangle) bool {
	var u image.Rectangle
	for _, r := range rs {
		u = u.Union(r)
	}
	return want.In(u)
}

// waitCovering calls WaitChange until the changes reported so far cover want, capturing what
// each call reports as the framebuffer side does: the capture is what orders "drawn before the
// damage was re-armed" (visible in this capture) against "drawn after" (reported again).
func waitCovering(t *testing.T, d *Desktop, want image.Rectangle) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var all []image.Rectangle
	for !covered(all, want) {
		rs, err := d.WaitChange(ctx)
		if err != nil {
			t.Fatalf("waiting for damage covering %v (got %v): %v", want, all, err)
		}
		all = append(all, rs...)
		for _, r := range rs {
			if err := d.Capture(image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy())), r); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestWaitChangeReportsDrawing(t *testing.T) {
	d := openTest(t, "-screen", "0", "800x600x24")
	c := newClient(t, d.Display())

	// Every draw is reported, including a second one in an area already reported: WaitChange
	// must have re-armed the damage object.
	for i, r := range []image.Rectangle{
		image.Rect(100, 100, 164, 116),
		image.Rect(100, 100, 164, 116),
		image.Rect(700, 500, 800, 600),
	} {
		c.put(r.Min.X, r.Min.Y, r.Dx(), r.Dy(), noise(r.Dx(), r.Dy(), uint64(i)))
		waitCovering(t, d, r)
	}

	// An idle screen reports nothing.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if rs, err := d.WaitChange(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("idle screen: WaitChange = %v, %v; want the deadline", rs, err)
	}
}

func TestWaitChangeCapturesWhatChanged(t *testing.T) {
	d := openTest(t, "-screen", "0", "640x480x24")
	c := newClient(t, d.Display())
	r := image.Rect(10, 20, 74, 36)
	px := noise(r.Dx(), r.Dy(), 9)
	c.put(r.Min.X, r.Min.Y, r.Dx(), r.Dy(), px)
	waitCovering(t, d, r)
	got := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	if err := d.Capture(got, r); err != nil {
		t.Fatal(err)
	}
	want := make([]byte, len(px))
	convertPerPixel(want, px, r.Dx()*r.Dy())
	for y := 0; y < r.Dy(); y++ {
		if string(got.Pix[y*got.Stride:][:r.Dx()*4]) != string(want[y*r.Dx()*4:][:r.Dx()*4]) {
			t.Fatalf("row %d of the changed area differs from what was drawn", y)
		}
	}
}

func TestWaitChangeAfterClose(t *testing.T) {
	d := openTest(t, "-screen", "0", "320x240x24")
	d.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := d.WaitChange(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("WaitChange after Close = %v, want ErrClosed", err)
	}
}
