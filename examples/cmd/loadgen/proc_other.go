//go:build !linux

package main

import (
	"errors"
	"time"
)

var errNoProc = errors.New("CPU pinning and per-process CPU time need Linux")

func pinTo(int) error { return errNoProc }

func allowedCPUs() ([]int, error) { return nil, errNoProc }

func cpuTime(int) (time.Duration, error) { return 0, errNoProc }

func checkTmpfs(string) error { return errors.New("-tmpfs-audit needs Linux (statfs)") }
