package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The admin socket is how assistd backup and assistd check reach a running gateway's store:
// bbolt holds an exclusive lock on the file while the gateway runs, so no second process can open
// it, and a copy must come from a read transaction inside the gateway. The socket lives in the
// data directory (0700), so the file system decides who may ask, as for the database itself.
// One request a connection: the line "backup", answered with "ok" and the database file as one
// read transaction sees it, or "error: …".

// backuper writes a consistent copy of a store; *tickets.Bolt is one.
type backuper interface {
	Backup(w io.Writer) (int64, error)
}

type adminSocket struct {
	l     net.Listener
	store backuper
	log   *slog.Logger

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// listenAdmin listens on path, replacing a socket file left by a gateway that died: the caller
// holds the store's lock, so no live gateway owns it.
func listenAdmin(path string, store backuper, log *slog.Logger) (*adminSocket, error) {
	if st, err := os.Lstat(path); err == nil && st.Mode()&os.ModeSocket != 0 {
		os.Remove(path)
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	a := &adminSocket{l: l, store: store, log: log, conns: map[net.Conn]struct{}{}}
	a.wg.Add(1)
	go a.serve()
	return a, nil
}

func (a *adminSocket) serve() {
	defer a.wg.Done()
	for {
		c, err := a.l.Accept()
		if err != nil {
			return // closed
		}
		a.mu.Lock()
		a.conns[c] = struct{}{}
		a.mu.Unlock()
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			a.handle(c)
			a.mu.Lock()
			delete(a.conns, c)
			a.mu.Unlock()
		}()
	}
}

func (a *adminSocket) handle(c net.Conn) {
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(io.LimitReader(c, 64)).ReadString('\n')
	if err != nil {
		return
	}
	c.SetReadDeadline(time.Time{})
	switch cmd := strings.TrimSpace(line); cmd {
	case "backup":
		start := time.Now()
		io.WriteString(c, "ok\n")
		n, err := a.store.Backup(c)
		if err != nil {
			a.log.Error("backup through the admin socket failed", "err", err)
			return
		}
		a.log.Info("backup through the admin socket", "bytes", n, "took", time.Since(start).Round(time.Millisecond).String())
	default:
		fmt.Fprintf(c, "error: unknown admin request %q\n", cmd)
	}
}

// Close stops listening (removing the socket file) and ends backups in flight.
func (a *adminSocket) Close() {
	a.l.Close()
	a.mu.Lock()
	for c := range a.conns {
		c.Close()
	}
	a.mu.Unlock()
	a.wg.Wait()
}

// errNoGateway is a data directory without a gateway answering on its admin socket.
var errNoGateway = errors.New("no gateway answers on the admin socket")

// requestBackup asks the gateway on the socket for a backup and returns the stream of the
// database file, or errNoGateway.
func requestBackup(path string) (io.ReadCloser, error) {
	c, err := net.DialTimeout("unix", path, 5*time.Second)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) {
			return nil, errNoGateway
		}
		return nil, fmt.Errorf("reach the gateway on %s: %w", path, err)
	}
	if _, err := io.WriteString(c, "backup\n"); err != nil {
		c.Close()
		return nil, fmt.Errorf("ask the gateway for a backup: %w", err)
	}
	br := bufio.NewReader(c)
	line, err := br.ReadString('\n')
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("ask the gateway for a backup: %w", err)
	}
	if line != "ok\n" {
		c.Close()
		return nil, fmt.Errorf("the gateway refused the backup: %s", strings.TrimSpace(strings.TrimPrefix(line, "error: ")))
	}
	return struct {
		io.Reader
		io.Closer
	}{br, c}, nil
}
