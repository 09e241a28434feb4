package sftpaudit

import (
	"bytes"
	"encoding/binary"
	"io"
	"slices"
	"strings"
	"testing"
)

// pkt encodes an SFTP packet from uint32, uint64, string and []byte
// (as a string field) values, after the type byte.
func pkt(typ byte, fields ...any) []byte {
	body := []byte{typ}
	for _, f := range fields {
		switch v := f.(type) {
		case uint32:
			body = binary.BigEndian.AppendUint32(body, v)
		case int:
			body = binary.BigEndian.AppendUint32(body, uint32(v))
		case uint64:
			body = binary.BigEndian.AppendUint64(body, v)
		case string:
			body = binary.BigEndian.AppendUint32(body, uint32(len(v)))
			body = append(body, v...)
		case []byte:
			body = binary.BigEndian.AppendUint32(body, uint32(len(v)))
			body = append(body, v...)
		default:
			panic("pkt: unsupported field")
		}
	}
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

// sampleSession is a small session as pkg/sftp and OpenSSH exchange it:
// init, an upload, a rename, a chmod, a failed remove.
func sampleSession() (c2s, s2c []byte) {
	join := func(ps ...[]byte) []byte { return bytes.Join(ps, nil) }
	c2s = join(
		pkt(fxpInit, 3),
		pkt(fxpOpen, 1, "/tmp/a.txt", fxfWrite|fxfCreat|fxfTrunc, 0),
		pkt(fxpWrite, 2, "h1", uint64(0), "hello, world\n"),
		pkt(fxpClose, 3, "h1"),
		pkt(fxpExtended, 4, "posix-rename@openssh.com", "/tmp/a.txt", "/tmp/b.txt"),
		pkt(fxpSetstat, 5, "/tmp/b.txt", attrPermissions, 0o600),
		pkt(fxpRemove, 6, "/tmp/none"),
		pkt(fxpStat, 7, "/tmp/b.txt"),
	)
	s2c = join(
		pkt(fxpVersion, 3, "posix-rename@openssh.com", "1"),
		pkt(fxpHandle, 1, "h1"),
		pkt(fxpStatus, 2, fxOK, "", ""),
		pkt(fxpStatus, 3, fxOK, "", ""),
		pkt(fxpStatus, 4, fxOK, "", ""),
		pkt(fxpStatus, 5, fxOK, "", ""),
		pkt(fxpStatus, 6, 2, "No such file", "en"),
		pkt(fxpAttrs, 7, 0),
	)
	return c2s, s2c
}

// run feeds both directions through an Auditor, in chunks of the given
// sizes, alternating, and returns the reported ops and what came out.
func run(t testing.TB, c2s, s2c []byte, chunk func(int) int) (ops []Op, outC2S, outS2C []byte) {
	a := NewAuditor(func(op Op) { ops = append(ops, op) }, nil)
	var bc, bs bytes.Buffer
	wc, ws := a.ClientToServer(&bc), a.ServerToClient(&bs)
	for i := 0; len(c2s) > 0 || len(s2c) > 0; i++ {
		src, w := &c2s, wc
		if i%2 == 1 {
			src, w = &s2c, ws
		}
		n := min(len(*src), chunk(i))
		if n == 0 {
			continue
		}
		if m, err := w.Write((*src)[:n]); m != n || err != nil {
			t.Fatalf("write %d bytes: wrote %d, %v", n, m, err)
		}
		*src = (*src)[n:]
	}
	a.Close()
	return ops, bc.Bytes(), bs.Bytes()
}

func TestSampleSessionAnySplit(t *testing.T) {
	c2s, s2c := sampleSession()
	want := []Op{
		{Kind: KindOpenWrite, Path: "/tmp/a.txt", Detail: "write,create,truncate"},
		{Kind: KindClose, Path: "/tmp/a.txt", Bytes: 13, Written: 13},
		{Kind: KindRename, Path: "/tmp/a.txt", Target: "/tmp/b.txt"},
		{Kind: KindSetstat, Path: "/tmp/b.txt", Detail: "mode=0600"},
		{Kind: KindRemove, Path: "/tmp/none", Err: "no such file"},
	}
	for _, size := range []int{1, 2, 3, 5, 7, 64, 1 << 20} {
		// All requests, then all replies: on a real link a reply never
		// overtakes its request, because the auditor records each request
		// before writing it on.
		ops, outC2S, outS2C := runReplies(t, c2s, s2c, size)
		if !bytes.Equal(outC2S, c2s) || !bytes.Equal(outS2C, s2c) {
			t.Fatalf("size %d: bytes changed in transit", size)
		}
		if !slices.Equal(ops, want) {
			t.Errorf("size %d: ops\n %+v\nwant\n %+v", size, ops, want)
		}
	}
}

// runReplies sends all requests, then all replies, both in chunks of size.
func runReplies(t testing.TB, c2s, s2c []byte, size int) (ops []Op, outC2S, outS2C []byte) {
	a := NewAuditor(func(op Op) { ops = append(ops, op) }, nil)
	var bc, bs bytes.Buffer
	for _, d := range []struct {
		w   io.Writer
		src []byte
	}{{a.ClientToServer(&bc), c2s}, {a.ServerToClient(&bs), s2c}} {
		for src := d.src; len(src) > 0; {
			n := min(size, len(src))
			d.w.Write(src[:n])
			src = src[n:]
		}
	}
	a.Close()
	return ops, bc.Bytes(), bs.Bytes()
}

func TestUnparseableStopsAuditButPassesBytes(t *testing.T) {
	c2s, s2c := sampleSession()
	tests := []struct {
		name   string
		inject []byte
		reason string
	}{
		{"oversized packet", binary.BigEndian.AppendUint32(nil, MaxPacket+1), "outside"},
		{"zero length", []byte{0, 0, 0, 0}, "outside"},
		{"truncated field", pkt(fxpOpen, 9, "/x")[:4+1+4+4+2], ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Concat(pkt(fxpInit, 3), tt.inject, c2s)
			if tt.name == "truncated field" {
				// Fix up the length so the framing holds but the string
				// inside runs past the packet's end.
				binary.BigEndian.PutUint32(in[len(pkt(fxpInit, 3)):], uint32(len(tt.inject)-4))
			}
			ops, outC2S, outS2C := runReplies(t, in, s2c, 3)
			if !bytes.Equal(outC2S, in) || !bytes.Equal(outS2C, s2c) {
				t.Fatal("bytes changed after the audit stopped")
			}
			if len(ops) != 1 || ops[0].Kind != KindUnparseable || !strings.Contains(ops[0].Err, tt.reason) {
				t.Fatalf("reported %+v, want exactly one unparseable op", ops)
			}
		})
	}
}

func TestStateIsBounded(t *testing.T) {
	path := "/" + strings.Repeat("p", maxPath-1)
	var in []byte
	for id := range maxState/(entryCost+maxPath) + 10 {
		in = append(in, pkt(fxpRemove, id, path)...)
	}
	ops, out, _ := runReplies(t, in, nil, 4096)
	if !bytes.Equal(out, in) {
		t.Fatal("bytes changed")
	}
	if len(ops) != 1 || ops[0].Kind != KindUnparseable {
		t.Fatalf("unanswered requests beyond the limit: reported %d ops, first %+v", len(ops), ops[:min(1, len(ops))])
	}
}

func TestLongPathIsClipped(t *testing.T) {
	long := "/" + strings.Repeat("x", 10000)
	ops, _, _ := runReplies(t, pkt(fxpRemove, 1, long), pkt(fxpStatus, 1, fxOK, "", ""), 100)
	if len(ops) != 1 || len(ops[0].Path) > maxPath+len("...(clipped)") || !strings.HasSuffix(ops[0].Path, "(clipped)") {
		t.Fatalf("reported %+v", ops)
	}
}

// FuzzPassThrough feeds arbitrary bytes both ways, split at arbitrary
// points, and checks that every byte comes out unchanged and in order,
// that nothing panics, and that at most one unparseable op is reported.
func FuzzPassThrough(f *testing.F) {
	c2s, s2c := sampleSession()
	f.Add(c2s, s2c, []byte{1, 7, 200, 3})
	f.Add(c2s[:len(c2s)/2], s2c, []byte{255})
	f.Add(pkt(fxpWrite, 1, "h", uint64(0), strings.Repeat("d", 1000)), pkt(fxpData, 1, "x"), []byte{0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1, 2, 3}, []byte{0, 0, 0, 1, fxpVersion}, []byte{2})
	f.Fuzz(func(t *testing.T, c2s, s2c, cuts []byte) {
		if len(cuts) == 0 {
			cuts = []byte{0}
		}
		ops, outC2S, outS2C := run(t, c2s, s2c, func(i int) int { return int(cuts[i%len(cuts)]) + 1 })
		if !bytes.Equal(outC2S, c2s) || !bytes.Equal(outS2C, s2c) {
			t.Fatal("bytes changed in transit")
		}
		unparseable := 0
		for _, op := range ops {
			if op.Kind == KindUnparseable {
				unparseable++
			}
		}
		if unparseable > 1 {
			t.Fatalf("%d unparseable ops", unparseable)
		}
	})
}

// BenchmarkUpload measures the auditor's cost on the bulk path: 32 KiB
// WRITE packets, as pkg/sftp and OpenSSH send them, client to server.
func BenchmarkUpload(b *testing.B) {
	a := NewAuditor(func(Op) {}, nil)
	w := a.ClientToServer(io.Discard)
	w.Write(pkt(fxpInit, 3))
	packet := pkt(fxpWrite, 1, "handle-1", uint64(0), make([]byte, 32<<10))
	b.SetBytes(int64(len(packet)))
	for b.Loop() {
		w.Write(packet)
	}
}

// BenchmarkDownload is the same for DATA replies, server to client.
func BenchmarkDownload(b *testing.B) {
	a := NewAuditor(func(Op) {}, nil)
	w := a.ServerToClient(io.Discard)
	w.Write(pkt(fxpVersion, 3))
	packet := pkt(fxpData, 1, make([]byte, 32<<10))
	b.SetBytes(int64(len(packet)))
	for b.Loop() {
		w.Write(packet)
	}
}
