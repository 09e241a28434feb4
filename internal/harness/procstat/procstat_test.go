//go:build linux

package procstat

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestParseSamples reads /proc files of real processes.
func TestParseSamples(t *testing.T) {
	for _, tc := range []struct {
		name string
		want Stat
	}{
		// A copy of sleep run as "x) y": the name's own parenthesis is not the end of it.
		{"paren-name", Stat{RSS: 1804 << 10, Peak: 1804 << 10}},
		// The shell of a benchmark, which has reaped many children.
		{"bash", Stat{CPU: 420 * time.Millisecond, ReapedCPU: 1211410 * time.Millisecond, RSS: 4340 << 10, Peak: 4340 << 10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var st Stat
			if err := parseStat(read(t, "stat-"+tc.name), &st); err != nil {
				t.Fatal(err)
			}
			if err := parseStatus(read(t, "status-"+tc.name), &st); err != nil {
				t.Fatal(err)
			}
			if st != tc.want {
				t.Errorf("%+v, want %+v", st, tc.want)
			}
		})
	}
}

// TestReadSelf: the test's own figures, read as a benchmark reads its children's.
func TestReadSelf(t *testing.T) {
	st, err := Read(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Spin until the kernel has counted 50 ms more of this process's time, however loaded the
	// machine is.
	for start := rusage(t); rusage(t)-start < 50*time.Millisecond; {
	}
	later, err := Read(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// /proc counts in ticks of 10 ms.
	if st.RSS <= 0 || st.Peak < st.RSS || later.CPU < st.CPU+40*time.Millisecond {
		t.Fatalf("before %+v, after 50 ms of spinning %+v", st, later)
	}
}

func rusage(t *testing.T) time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		t.Fatal(err)
	}
	return time.Duration(syscall.TimevalToNsec(u.Utime) + syscall.TimevalToNsec(u.Stime))
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"paren-name", "bash"} {
		f.Add(read(f, "stat-"+name), read(f, "status-"+name))
	}
	f.Fuzz(func(t *testing.T, stat, status []byte) {
		var st Stat
		if parseStat(stat, &st) == nil && (st.CPU < 0 || st.ReapedCPU < 0) {
			t.Fatalf("negative time from %q: %+v", stat, st)
		}
		if parseStatus(status, &st) == nil && (st.RSS < 0 || st.Peak < 0) {
			t.Fatalf("negative memory from %q: %+v", status, st)
		}
	})
}

func read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
