package wine

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// shimSource is bcryptprimitives.dll as far as Go's runtime needs it: ProcessPrng, which fills
// a buffer with random bytes, on top of BCryptGenRandom, which Wine has. It is C because Go
// cannot build a Windows DLL without cgo and a Windows toolchain, and it is kept here rather than
// in a .c file so that the go tool does not take this package for a cgo one.
const shimSource = `#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
	while (len > 0) {
		ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
		if (BCryptGenRandom(NULL, data, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0)
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}
`

// mingwGCC is Debian's cross compiler for 64-bit Windows (package gcc-mingw-w64-x86-64).
const mingwGCC = "x86_64-w64-mingw32-gcc"

// buildShim compiles shimSource into dll, working in dir.
func buildShim(ctx context.Context, dir, dll string) error {
	gcc, err := exec.LookPath(mingwGCC)
	if err != nil {
		return fmt.Errorf("wine: %s is not installed (scripts/deps.sh installs gcc-mingw-w64-x86-64); the bcryptprimitives.dll shim needs it: %w", mingwGCC, err)
	}
	src := filepath.Join(dir, "bcryptprimitives.c")
	if err := os.WriteFile(src, []byte(shimSource), 0o644); err != nil {
		return fmt.Errorf("wine: write shim source: %w", err)
	}
	cmd := exec.CommandContext(ctx, gcc, "-shared", "-O2", "-s", "-o", dll, src, "-lbcrypt")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("wine: build bcryptprimitives.dll: %w: %s", err, bytes.TrimSpace(out))
	}
	return nil
}
