package storage

// DroppedEvents is how many events the fan-out dropped because Events'
// buffer was full, for tests that must know an overflow happened.
func (s *Redis) DroppedEvents() int64 {
	if s.fan == nil {
		return 0
	}
	return s.fan.dropped.Load()
}

// SessionsEnded is how many pub/sub sessions the fan-out has ended (a
// failed connection, a stale one, or Close).
func (s *Redis) SessionsEnded() int64 {
	if s.fan == nil {
		return 0
	}
	return s.fan.ended.Load()
}
