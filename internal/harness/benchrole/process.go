package benchrole

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Process is one role of the benchmark's own binary, run as a child: its standard input keeps it
// running, its standard output is read a line at a time.
type Process struct {
	Name string
	Cmd  *exec.Cmd
	In   io.WriteCloser
	Out  *bufio.Reader
}

// Start runs this binary again with args, as the role called name in errors.
func Start(name string, args ...string) (*Process, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, args...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return &Process{Name: name, Cmd: cmd, In: in, Out: bufio.NewReaderSize(out, 1<<20)}, nil
}

// Line reads the next line and returns its words after prefix; a line that starts with another
// word is an error.
func (p *Process) Line(prefix string) ([]string, error) {
	l, err := p.Out.ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.Name, err)
	}
	f := strings.Fields(l)
	if len(f) == 0 || f[0] != prefix {
		return nil, fmt.Errorf("%s said %q, want %s", p.Name, l, prefix)
	}
	return f[1:], nil
}

// Stop closes the process's standard input and waits for it to end; after grace it is killed.
func (p *Process) Stop(grace time.Duration) {
	p.In.Close()
	done := make(chan struct{})
	go func() { p.Cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(grace):
		p.Cmd.Process.Kill()
		<-done
	}
}
