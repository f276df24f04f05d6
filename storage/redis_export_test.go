package storage

import (
	"context"

	"github.com/draftroom/draftroom/dr"
)

// Hooks for the external tests in redis_test.go.

// RedisCommitWithNonce runs the commit script with a given nonce, as a
// go-redis retry of one Commit call would, and returns its raw reply.
func RedisCommitWithNonce(ctx context.Context, r *Redis, id string, base int, c dr.Commit, nonce string) (code, head int64, err error) {
	keys, args, err := r.commitArgs(id, base, c, nonce)
	if err != nil {
		return 0, 0, err
	}
	return r.runScript(ctx, "commit", r.commitScript, keys, args...)
}

// RedisFail maps a go-redis error the way every Redis method does.
func RedisFail(ctx context.Context, err error) error {
	return (&Redis{}).fail(ctx, "test", err)
}
