package chromium_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/e2e/chromium"
)

func TestStartNavigateEval(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>hello</title><p id="p">loaded</p>`)
	}))
	defer srv.Close()
	b := chromium.Start(t)
	require.NoError(t, b.Navigate(srv.URL))
	var title string
	require.NoError(t, b.Eval(`document.title`, &title))
	assert.Equal(t, "hello", title)
	var n int
	require.NoError(t, b.Eval(`Promise.resolve(1 + 2)`, &n))
	assert.Equal(t, 3, n)
	require.NoError(t, b.WaitFor(`document.getElementById("p")`))
	png, err := b.Screenshot()
	require.NoError(t, err)
	assert.Equal(t, "\x89PNG", string(png[:4]))
}

func TestMissingBinarySkipsOutsideCI(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	t.Setenv("CHROMIUM", "/nonexistent/chromium")
	t.Setenv("CI", "false")
	ok := t.Run("inner", func(t *testing.T) {
		chromium.Start(t)
		t.Error("Start returned without chromium")
	})
	assert.True(t, ok, "a missing browser skips outside CI")
}
