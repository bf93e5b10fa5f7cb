package postgres_test

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/launchready/launchready/audit"
	"github.com/launchready/launchready/audit/postgres"
)

func Example() {
	ctx := context.Background()
	// At deploy, as the table's owner: create the table, grant the app's
	// role INSERT and SELECT only.
	//   owner, _ := pgxpool.New(ctx, "postgres://migrator@db/portal")
	//   _ = postgres.Migrate(ctx, owner, "portal_app")
	app, err := pgxpool.New(ctx, "postgres://portal_app@127.0.0.1:1/portal?connect_timeout=1")
	if err != nil {
		panic(err)
	}
	defer app.Close()
	sink, err := postgres.New(postgres.Config{Pool: app})
	if err != nil {
		panic(err)
	}
	defer sink.Close()
	auditor, err := audit.New(audit.Config{Sink: sink})
	if err != nil {
		panic(err)
	}
	fmt.Println(auditor.FailOpen())
	// Output: false
}
