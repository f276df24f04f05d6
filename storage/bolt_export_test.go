package storage

// Hooks for the external tests.

// FailCheckpoints makes every checkpoint of b fail with err from now on,
// as a full or failing disk under the bbolt file would; nil lets them
// succeed again.
func FailCheckpoints(b *Bolt, err error) {
	if err == nil {
		b.ckFault.Store(nil)
		return
	}
	b.ckFault.Store(&err)
}
