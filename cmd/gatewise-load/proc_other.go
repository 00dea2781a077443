//go:build !linux

package main

import "syscall"

// childAttrs has nothing to add outside Linux: the server is stopped by stop.
func childAttrs() *syscall.SysProcAttr { return nil }
