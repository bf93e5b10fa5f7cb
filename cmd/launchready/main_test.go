package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/launchready/launchready/readiness"
)

func TestRunUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	assert.Equal(t, exitCantRun, run(context.Background(), nil, &out, &errOut))
	assert.Contains(t, errOut.String(), "usage: launchready")

	errOut.Reset()
	assert.Equal(t, exitCantRun, run(context.Background(), []string{"no-such-command"}, &out, &errOut))
	assert.Contains(t, errOut.String(), `unknown command "no-such-command"`)

	errOut.Reset()
	assert.Equal(t, exitOK, run(context.Background(), []string{"version"}, &out, &errOut))
	assert.True(t, strings.HasPrefix(out.String(), "launchready "))
}

func TestWriteReportExitCodes(t *testing.T) {
	blocked := readiness.NewReport(readiness.Production, []readiness.Finding{{ID: "DEPLOY005", Severity: readiness.Blocker, Seen: "TLS 1.0 offered", Fix: "refuse TLS below 1.2"}})
	clean := readiness.NewReport(readiness.Production, nil)
	for _, format := range []string{"text", "json", "sarif"} {
		var buf bytes.Buffer
		code, err := writeReport(&buf, blocked, format)
		assert.NoError(t, err)
		assert.Equal(t, exitFailed, code, format)
		assert.Contains(t, buf.String(), "DEPLOY005", format)

		buf.Reset()
		code, err = writeReport(&buf, clean, format)
		assert.NoError(t, err)
		assert.Equal(t, exitOK, code, format)
	}
	_, err := writeReport(&bytes.Buffer{}, clean, "xml")
	assert.ErrorContains(t, err, "unknown -format")
}
