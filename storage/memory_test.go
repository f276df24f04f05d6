package storage_test

import (
	"testing"

	"github.com/draftroom/draftroom/storage"
	"github.com/draftroom/draftroom/storage/storagetest"
)

func TestMemory(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T) storagetest.Store { return storage.NewMemory() })
}
