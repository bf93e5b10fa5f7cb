package main

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
)

func init() {
	commands = append(commands, command{name: "version", summary: "print the command's version and VCS revision", run: runVersion})
}

// version is the module version and VCS revision the binary was built from.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			v += " " + s.Value
		}
	}
	return v
}

func runVersion(_ context.Context, _ []string, stdout, _ io.Writer) int {
	fmt.Fprintln(stdout, "launchready", version())
	return exitOK
}
