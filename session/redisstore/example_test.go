package redisstore_test

import (
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/launchready/launchready/session"
	"github.com/launchready/launchready/session/redisstore"
)

func Example() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	store, err := redisstore.New(redisstore.Config{Client: rdb})
	if err != nil {
		panic(err)
	}
	mgr, err := session.New(session.Config{Store: store})
	if err != nil {
		panic(err)
	}
	s := mgr.Settings()
	fmt.Println(s.InMemoryStore, s.CanLogoutEverywhere, s.HashedTokens)
	// Output: false true true
}
