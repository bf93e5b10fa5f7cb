package enginetest_test

import (
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/internal/enginetest"
)

func dial(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
	}
	return err
}

func TestEnginesStopAndStart(t *testing.T) {
	r := enginetest.StartRedis(t)
	require.NoError(t, dial(r.Addr))
	r.Kill()
	require.Error(t, dial(r.Addr))
	r.Start()
	require.NoError(t, dial(r.Addr))

	pg := enginetest.StartPostgres(t)
	addr := net.JoinHostPort("127.0.0.1", itoa(pg.Port))
	require.NoError(t, dial(addr))
	pg.Stop()
	require.Error(t, dial(addr))
	pg.Start()
	require.NoError(t, dial(addr))
}

func itoa(n int) string { return (&net.TCPAddr{Port: n}).String()[1:] }
