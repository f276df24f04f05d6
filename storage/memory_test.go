package storage_test

import (
	"testing"

	"github.com/draftroom/draftroom/dr"
	"github.com/draftroom/draftroom/storage"
	"github.com/draftroom/draftroom/storage/storagetest"
)

func TestMemory(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T) dr.Store { return storage.NewMemory() })
}
