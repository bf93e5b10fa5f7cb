package redisstore_test

import (
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/launchready/launchready/ratelimit"
	"github.com/launchready/launchready/ratelimit/redisstore"
)

func Example() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	store, err := redisstore.New(redisstore.Config{Client: rdb})
	if err != nil {
		panic(err)
	}
	limits, err := ratelimit.New(ratelimit.Config{Store: store})
	if err != nil {
		panic(err)
	}
	h := limits.Login(ok, ratelimit.ByIP())
	fmt.Println(h.StoreShared(), h.FailMode())
	// Output: true fail-closed
}
