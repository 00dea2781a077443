package main

import "syscall"

// childAttrs asks Linux to kill the server if this process dies first, so a
// killed load run leaves nothing listening behind it.
func childAttrs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
