package server

import "github.com/draftroom/draftroom/dr"

// Store is the storage contract the server is built on, dr.Store: every
// backend (storage.Memory, storage.Bolt, storage.Redis) implements all of
// it, so the server never asks a store what it can do. The store's owner
// (main) closes it after Shutdown. Fan-out between nodes is wired
// separately (Config.Fanout).
type Store = dr.Store
