// Package depsonly pins the project's dependencies in go.mod while the packages that use them are written.
package depsonly

import (
	_ "github.com/chromedp/chromedp"
	_ "github.com/go-vgo/robotgo"
	_ "github.com/jezek/xgb"
	_ "github.com/jezek/xgb/shm"
	_ "github.com/jezek/xgb/xtest"
	_ "github.com/jezek/xgb/xinerama"
	_ "github.com/kbinani/screenshot"
	_ "github.com/klauspost/compress/zstd"
	_ "github.com/pkg/sftp"
	_ "github.com/rogpeppe/go-internal/testscript"
	_ "github.com/spf13/cobra"
	_ "go.etcd.io/bbolt"
	_ "golang.org/x/crypto/ssh"
	_ "golang.org/x/crypto/argon2"
	_ "golang.org/x/term"
)
