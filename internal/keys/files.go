package keys

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// keyDir reads files from one key directory. Every read resolves the name
// inside the directory: a name that is not a plain file name, or a symlink
// whose target lies outside the directory, is refused. Private files must
// not be readable by group or others.
type keyDir struct {
	dir string
}

// path returns the file's path for messages.
func (d keyDir) path(name string) string { return filepath.Join(d.dir, name) }

// read returns the contents of name, or a *FileError. A missing file is a
// FileError wrapping ErrNotConfigured and fs.ErrNotExist.
func (d keyDir) read(name string, private bool) ([]byte, error) {
	p := d.path(name)
	if name == "" || name != filepath.Base(name) || name == "." || name == ".." {
		return nil, &FileError{Path: p, Reason: "not a plain file name", Err: ErrInsecureFile}
	}
	// Resolve symlinks first, to name an escaping target in the error.
	resolvedDir, err := filepath.EvalSymlinks(d.dir)
	if err != nil {
		return nil, &FileError{Path: d.dir, Reason: "key directory", Err: ErrNotConfigured, Cause: err}
	}
	target, err := filepath.EvalSymlinks(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, &FileError{Path: p, Reason: "no such file", Err: ErrNotConfigured, Cause: fs.ErrNotExist}
	case err != nil:
		return nil, &FileError{Path: p, Reason: "cannot resolve", Err: ErrInsecureFile, Cause: err}
	}
	if !within(resolvedDir, target) {
		return nil, &FileError{Path: p, Reason: fmt.Sprintf("symlink points outside the key directory (to %s)", target), Err: ErrInsecureFile}
	}
	// Open the resolved target through os.Root, so that a symlink swapped
	// in after the check above still cannot lead outside the directory.
	rel, err := filepath.Rel(resolvedDir, target)
	if err != nil {
		return nil, &FileError{Path: p, Reason: "cannot resolve", Err: ErrInsecureFile, Cause: err}
	}
	root, err := os.OpenRoot(resolvedDir)
	if err != nil {
		return nil, &FileError{Path: d.dir, Reason: "cannot open key directory", Err: ErrNotConfigured, Cause: err}
	}
	defer root.Close()
	f, err := root.Open(rel)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &FileError{Path: p, Reason: "no such file", Err: ErrNotConfigured, Cause: fs.ErrNotExist}
		}
		return nil, &FileError{Path: p, Reason: "cannot open inside the key directory", Err: ErrInsecureFile, Cause: err}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, &FileError{Path: p, Reason: "cannot stat", Err: ErrInsecureFile, Cause: err}
	}
	if !fi.Mode().IsRegular() {
		return nil, &FileError{Path: p, Reason: fmt.Sprintf("not a regular file (%s)", fi.Mode().Type()), Err: ErrInsecureFile}
	}
	if perm := fi.Mode().Perm(); private && perm&0o077 != 0 {
		return nil, &FileError{Path: p, Mode: perm,
			Reason: fmt.Sprintf("readable or writable by group or others (mode %04o); chmod 600 it", perm), Err: ErrInsecureFile}
	}
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFileBytes+1))
	if err != nil {
		return nil, &FileError{Path: p, Reason: "cannot read", Err: ErrInvalidKey, Cause: err}
	}
	if len(b) > maxKeyFileBytes {
		return nil, &FileError{Path: p, Reason: fmt.Sprintf("larger than %d bytes", maxKeyFileBytes), Err: ErrInvalidKey}
	}
	return b, nil
}

// within reports whether path lies inside dir (both cleaned, absolute or
// relative alike).
func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	if err != nil {
		return false
	}
	return rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// notExist reports whether err is a missing (optional) file.
func notExist(err error) bool {
	return errors.Is(err, ErrNotConfigured) && errors.Is(err, fs.ErrNotExist)
}
