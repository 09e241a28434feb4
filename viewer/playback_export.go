package viewer

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"os/exec"
	"strconv"
	"time"
)

// ErrNoFFmpeg is why Export cannot run: ffmpeg is not installed.
var ErrNoFFmpeg = errors.New("ffmpeg is not installed")

// Export writes the recording as a video at out (its extension picks the container: .mp4,
// .mkv, .webm), fps frames a second from the start to the end, through ffmpeg. The video's size
// is the screen's at its first update; later layouts are cropped or padded to it.
func Export(ctx context.Context, p *Player, out string, fps int, stderr io.Writer) error {
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		return ErrNoFFmpeg
	}
	if fps <= 0 {
		fps = 10
	}
	_, updates, err := p.Scan()
	if err != nil {
		return err
	}
	if len(updates) == 0 {
		return errors.New("export: the recording holds no screen")
	}
	if err := p.Seek(updates[0]); err != nil {
		return err
	}
	size := p.Bounds()
	frames := int((p.Duration()*time.Duration(fps) + time.Second - 1) / time.Second)
	cmd := exec.CommandContext(ctx, ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
		"-f", "rawvideo", "-pix_fmt", "rgba", "-s", fmt.Sprintf("%dx%d", size.Dx(), size.Dy()), "-r", strconv.Itoa(fps), "-i", "-",
		"-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", out)
	cmd.Stderr = stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start ffmpeg: %w", err)
	}
	frame := image.NewRGBA(image.Rectangle{Max: size.Size()})
	var werr error
	for i := 0; i < frames && werr == nil; i++ {
		if err := p.Seek(time.Duration(i) * time.Second / time.Duration(fps)); err != nil {
			werr = err
			break
		}
		drawFrame(frame, p.Image(), size.Min)
		_, werr = in.Write(frame.Pix)
	}
	in.Close()
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("ffmpeg: %w", err)
	}
	return werr
}

// drawFrame copies src, whose origin is at org of the video, into frame, black elsewhere.
func drawFrame(frame, src *image.RGBA, org image.Point) {
	clear(frame.Pix)
	for i := 3; i < len(frame.Pix); i += 4 {
		frame.Pix[i] = 0xff
	}
	r := src.Rect.Sub(org).Intersect(frame.Rect)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		copy(frame.Pix[frame.PixOffset(r.Min.X, y):frame.PixOffset(r.Max.X, y)], src.Pix[src.PixOffset(r.Min.X+org.X, y+org.Y):src.PixOffset(r.Max.X+org.X, y+org.Y)])
	}
}
