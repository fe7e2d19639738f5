//go:build linux

package store

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// trimMappings drops the pages of Badger's memory-mapped files (value log, tables, memtable
// logs) from this process's resident set. Badger writes and reads these files through shared
// mappings and never unmaps a page it touched, so without this a 1,000,000-event backfill
// leaves more than a gigabyte of file pages counted as Warden's memory. For a shared file
// mapping MADV_DONTNEED only unmaps: the data stays in the page cache (dirty pages are still
// written back) and a later access faults it in again.
func trimMappings(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(bytes.NewReader(maps))
	for sc.Scan() {
		start, end, ok := badgerMapping(sc.Text(), abs)
		if !ok {
			continue
		}
		_, _, errno := unix.Syscall(unix.SYS_MADVISE, start, end-start, unix.MADV_DONTNEED)
		if errno != 0 {
			return errno
		}
	}
	return sc.Err()
}

// badgerMapping parses one /proc/self/maps line and reports whether it maps one of Badger's
// data files inside dir, with its address range.
func badgerMapping(line, dir string) (start, end uintptr, ok bool) {
	// address perms offset dev inode pathname
	f := strings.Fields(line)
	if len(f) < 6 || len(f[1]) < 4 || f[1][3] != 's' { // shared mappings only; never touch private memory
		return 0, 0, false
	}
	path := strings.Join(f[5:], " ")
	if filepath.Dir(path) != dir {
		return 0, 0, false
	}
	switch filepath.Ext(path) {
	case ".vlog", ".sst", ".mem":
	default:
		return 0, 0, false
	}
	lo, hi, found := strings.Cut(f[0], "-")
	if !found {
		return 0, 0, false
	}
	s, err1 := strconv.ParseUint(lo, 16, 64)
	e, err2 := strconv.ParseUint(hi, 16, 64)
	if err1 != nil || err2 != nil || e <= s {
		return 0, 0, false
	}
	return uintptr(s), uintptr(e), true
}
