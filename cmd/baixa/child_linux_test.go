package main

import (
	"os/exec"
	"syscall"
)

// dieWithParent kills the child when the test process dies, so that an
// interrupted run leaves no baixa behind.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
