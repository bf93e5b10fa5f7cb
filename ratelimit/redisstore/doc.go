// Package redisstore shares ratelimit decisions across replicas on Redis.
package redisstore
