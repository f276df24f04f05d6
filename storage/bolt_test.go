package storage_test

import (
	"path/filepath"
	"testing"

	"github.com/draftroom/draftroom/storage"
	"github.com/draftroom/draftroom/storage/storagetest"
)

func openBolt(t *testing.T) *storage.Bolt {
	t.Helper()
	b, err := storage.OpenBolt(filepath.Join(t.TempDir(), "data", "draftroom.db"), storage.BoltOptions{})
	if err != nil {
		t.Fatalf("OpenBolt: %v", err)
	}
	return b
}

func TestBolt(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storagetest.Store { return openBolt(t) })
}
