package enginetest

import (
	"os/exec"
	"syscall"
)

// dieWithTest makes the kernel stop the server if the test process dies
// without its cleanup (a test timeout panics past t.Cleanup).
func dieWithTest(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
