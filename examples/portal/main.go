// Command portal is the kit's example client portal. Until the full portal
// lands it is a runnable readiness demo: it builds a server, runs the gate,
// and serves a health endpoint.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/launchready/launchready/readiness"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	envName := flag.String("env", "development", "production or development")
	check := flag.Bool("check", false, "print the readiness report and exit 0 when ready, 1 when blocked")
	flag.Parse()
	env, err := readiness.ParseEnv(*envName)
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintln(w, `{"status":"ok"}`)
	})
	srv := &http.Server{
		Addr: *addr, Handler: mux,
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 60 * time.Second, MaxHeaderBytes: 64 << 10,
	}
	target := readiness.Target{Server: srv, Env: env}
	if *check {
		if err := readiness.Gate(context.Background(), target, os.Stdout); err != nil {
			os.Exit(1)
		}
		return
	}
	if err := readiness.Gate(context.Background(), target, os.Stdout); err != nil {
		log.Fatal(err)
	}
	log.Printf("portal demo listening on http://%s", *addr)
	log.Fatal(srv.ListenAndServe())
}
