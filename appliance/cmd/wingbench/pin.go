package main

import (
	"context"
	"errors"
	"time"

	"wingnode/appliance/roster"
)

// pinVerify times one argon2id verification of a PIN with the parameters
// of new hashes: what every sign-in costs the board (target ≤ 250 ms on a
// small board, which is several times slower than a development machine).
func pinVerify(ctx context.Context, _ string) ([]figure, error) {
	hash, err := roster.HashPIN("482913")
	if err != nil {
		return nil, err
	}
	var times []time.Duration
	for range 21 {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		start := time.Now()
		ok, err := roster.VerifyPIN(hash, "482913")
		times = append(times, time.Since(start))
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, errors.New("the PIN did not verify against its own hash")
		}
	}
	return []figure{{"pin_verify_ms", percentile(times, 50), "ms"}}, nil
}
