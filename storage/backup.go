package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Backup writes a consistent copy of the store to w while it serves: the
// commits still only in the write-ahead log are first copied into bbolt
// (settle), then the whole file is written from one read transaction
// (bbolt's Tx.WriteTo), so the copy holds every commit acknowledged
// before Backup was called, and perhaps some later ones, never half of
// one. The copy is a bbolt file: saved as draftroom.db in an empty
// directory, it opens with OpenBolt (the empty log is created).
//
// The read transaction lasts as long as w takes to accept the bytes, and
// while it is open bbolt cannot grow its memory map, so a writer that
// needs a bigger file waits for it: write to a local file
// (BackupFile), then send that, rather than to a slow network peer.
func (b *Bolt) Backup(ctx context.Context, w io.Writer) (int64, error) {
	var n int64
	err := b.view(ctx, "backup", func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("storage: backup %s: %w", b.path, err)
	}
	return n, nil
}

// BackupTemp is the infix of a backup being written: a file whose name
// holds it is not (yet) a backup. Retention and restores ignore it.
const BackupTemp = ".partial-"

// BackupFile writes a backup (Backup) to path: first to a temporary file
// in the same directory, synced, then renamed to path and the directory
// synced, so path never names a partial copy, whatever happens meanwhile
// (a crash, kill -9, a full disk). On error the temporary file is
// removed and path is untouched.
func (b *Bolt) BackupFile(ctx context.Context, path string) (n int64, err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, base+BackupTemp+"*")
	if err != nil {
		return 0, fmt.Errorf("storage: backup to %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if n, err = b.Backup(ctx, backupWriter(f)); err != nil {
		return n, err
	}
	if err = f.Sync(); err != nil {
		return n, fmt.Errorf("storage: backup to %s: sync: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return n, fmt.Errorf("storage: backup to %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return n, fmt.Errorf("storage: backup to %s: %w", path, err)
	}
	if err = syncDir(dir); err != nil {
		return n, fmt.Errorf("storage: backup to %s: sync directory: %w", path, err)
	}
	return n, nil
}

// backupWriter is what BackupFile writes the copy through: the file
// itself. The kill -9 test replaces it to stop the child mid-write.
var backupWriter = func(f *os.File) io.Writer { return f }

// BackupName is the file name of a periodic backup taken at t:
// draftroom-20260102T150405Z.db (UTC, so names sort by time).
func BackupName(t time.Time) string {
	return "draftroom-" + t.UTC().Format("20060102T150405Z") + ".db"
}

// PruneBackups removes the oldest periodic backups in dir (files named by
// BackupName) beyond the keep newest, and leftover temporary files of
// backups that never finished (a crash mid-write), except one still
// being written by now (younger than an hour). It returns the removed
// names. keep <= 0 keeps everything.
func PruneBackups(dir string, keep int, now time.Time) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("storage: prune backups in %s: %w", dir, err)
	}
	var backups, removed []string
	var errs []error
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(name, "draftroom-") {
			continue
		}
		if strings.Contains(name, BackupTemp) {
			if info, err := e.Info(); err == nil && now.Sub(info.ModTime()) > time.Hour {
				if err := os.Remove(filepath.Join(dir, name)); err != nil {
					errs = append(errs, err)
				} else {
					removed = append(removed, name)
				}
			}
			continue
		}
		if strings.HasSuffix(name, ".db") {
			backups = append(backups, name)
		}
	}
	if keep > 0 && len(backups) > keep {
		sort.Strings(backups)
		for _, name := range backups[:len(backups)-keep] {
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				errs = append(errs, err)
				continue
			}
			removed = append(removed, name)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return removed, fmt.Errorf("storage: prune backups in %s: %w", dir, err)
	}
	return removed, nil
}
