package store

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

var (
	// ErrLocked means another process holds the data directory. Exactly one process may own
	// the database; the caller should hand over to it instead of retrying.
	ErrLocked = errors.New("data directory is used by another process")
	// ErrNotFound is returned by single-record lookups.
	ErrNotFound = errors.New("not found")
	// ErrDiskFull means a write was refused or failed for lack of disk space. The failed
	// transaction left nothing behind and later writes work once space is freed.
	ErrDiskFull = errors.New("disk full")
	// ErrNewerSchema means the database was written by a newer Warden that this version cannot
	// read safely.
	ErrNewerSchema = errors.New("database schema is newer than this version of warden")
)

// Options configures Open.
type Options struct {
	// Dir is the data directory, created with mode 0700 when missing.
	Dir string
	// InMemory keeps everything in memory (tests); Dir is ignored.
	InMemory bool
	// Logger receives Badger's warnings and errors; nil discards them.
	Logger *slog.Logger
}

// Store is Warden's database. Its methods are safe for concurrent use.
type Store struct {
	db  *badger.DB
	log *slog.Logger
	dir string

	// wmu serializes event writes, so read-modify-write keys (counter, distinct values) never
	// conflict and the distinct cache always matches what was committed.
	wmu      sync.Mutex
	distinct map[string]map[string]string // org -> field tag + normalized value -> display

	omu    sync.Mutex
	orgIDs map[string][]byte // org -> key component, see orgs.go

	// freeBytes reports free disk space; tests replace it to simulate a full disk.
	freeBytes func() (uint64, error)
	// lastTrim is when trimMappings last ran; guarded by wmu.
	lastTrim time.Time

	// beforeCommit, when set by a test, runs just before an event transaction commits and can
	// fail it, to prove that a failed page leaves nothing behind.
	beforeCommit func() error
}

// SuggestedMemoryLimit is the soft Go memory limit (debug.SetMemoryLimit) the app sets for the
// whole process. Without it the Go heap grows with Badger's garbage and a large backfill passes
// 300 MB; a library does not set process-wide limits itself, so it only recommends one.
const SuggestedMemoryLimit = 64 << 20

// Desktop tuning. Badger's defaults target servers (64 MB memtables, five of them, a 256 MB
// block cache, 1 GB value-log files) and pass 3 GB of memory during a large import. What
// remains is mostly Badger's table builders, sized from the memtable and base table size, and
// the Go heap headroom above them. With a soft memory limit set by the app
// (debug.SetMemoryLimit), a 1,000,000-event backfill peaks below 200 MB; see the benchmarks.
const (
	memTableSize     = 8 << 20
	baseTableSize    = 1 << 20
	numMemtables     = 2
	blockCacheSize   = 8 << 20
	indexCacheSize   = 8 << 20
	valueLogFileSize = 64 << 20
	// valueThreshold sends event records (typically 1–2 KB with their raw JSON) to the value
	// log, written once, while keys, index entries and small records stay in the LSM tree.
	// Compaction then moves only keys, which is what keeps a backfill fast.
	valueThreshold = 512

	// trimEvery is the least time between two trims of Badger's mapped pages during writes.
	// Compactions read and write whole tables through the mappings, so trimming by time
	// catches their pages too; one trim costs well under a millisecond.
	trimEvery = 250 * time.Millisecond

	// minFreeBytes is the free space below which writes are refused with ErrDiskFull. Badger
	// writes its logs through sparse memory-mapped files, and a full disk there is a SIGBUS
	// rather than an error, so the store stops early instead of letting Badger hit the wall.
	minFreeBytes = 128 << 20
)

// Open opens (or creates) the database, tuned for a desktop, and migrates it to the current
// schema. A directory already open in another process gives ErrLocked.
func Open(o Options) (*Store, error) {
	return open(o, migrations)
}

func open(o Options, migs []migration) (*Store, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if !o.InMemory {
		if o.Dir == "" {
			return nil, errors.New("open store: no data directory")
		}
		if err := os.MkdirAll(o.Dir, 0o700); err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
	}

	db, err := badger.Open(badgerOptions(o, log))
	if err != nil {
		if strings.Contains(err.Error(), "Cannot acquire directory lock") {
			return nil, fmt.Errorf("open store: %w (%w)", ErrLocked, err)
		}
		return nil, fmt.Errorf("open store: %w", err)
	}
	s := &Store{
		db:       db,
		log:      log,
		distinct: make(map[string]map[string]string),
		orgIDs:   make(map[string][]byte),
	}
	if !o.InMemory {
		s.dir = o.Dir
	}
	s.freeBytes = s.diskFree
	if err := s.migrate(migs); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return s, nil
}

func badgerOptions(o Options, log *slog.Logger) badger.Options {
	dir := o.Dir
	if o.InMemory {
		dir = ""
	}
	return badger.DefaultOptions(dir).
		WithInMemory(o.InMemory).
		WithLogger(badgerLogger{log}).
		WithMetricsEnabled(false).
		WithMemTableSize(memTableSize).
		WithNumMemtables(numMemtables).
		WithNumLevelZeroTables(6).
		WithNumLevelZeroTablesStall(12).
		WithBlockCacheSize(blockCacheSize).
		WithIndexCacheSize(indexCacheSize).
		WithValueThreshold(valueThreshold).
		WithValueLogFileSize(valueLogFileSize).
		WithBaseTableSize(baseTableSize).
		WithNumCompactors(2).
		WithNumGoroutines(2).
		WithCompression(options.None). // keys are prefix-coded, values live in the value log
		WithSyncWrites(false).
		// Every read-modify-write runs under wmu (or omu), so Badger's conflict tracking
		// would only cost time and memory.
		WithDetectConflicts(false)
}

// Close flushes and closes the database.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// GC reclaims value-log space left by deleted organizations. It is cheap when there is
// nothing to do; the scheduler calls it now and then, not on a hot path.
func (s *Store) GC() {
	defer func() {
		s.wmu.Lock()
		s.trim()
		s.wmu.Unlock()
	}()
	for range 8 { // each round rewrites at most one file; stop early when none qualifies
		err := s.db.RunValueLogGC(0.5)
		switch {
		case err == nil:
			continue
		case errors.Is(err, badger.ErrNoRewrite), errors.Is(err, badger.ErrRejected),
			errors.Is(err, badger.ErrGCInMemoryMode):
			return
		default:
			s.log.Warn("Value log GC failed", "err", err)
			return
		}
	}
}

// trim releases Badger's file pages from the resident set; the caller holds wmu.
func (s *Store) trim() {
	s.lastTrim = time.Now()
	if s.dir == "" {
		return
	}
	if err := trimMappings(s.dir); err != nil {
		s.log.Warn("Trimming mapped store files failed", "err", err)
	}
}

// checkSpace refuses a write before Badger touches the disk when space is nearly gone.
func (s *Store) checkSpace() error {
	if s.freeBytes == nil {
		return nil
	}
	free, err := s.freeBytes()
	if err != nil {
		return nil // unknown is not full; the write itself will report a real failure
	}
	if free < minFreeBytes {
		return fmt.Errorf("%w: %d MB free in data directory", ErrDiskFull, free>>20)
	}
	return nil
}

func (s *Store) diskFree() (uint64, error) {
	if s.dir == "" {
		return 0, errors.ErrUnsupported
	}
	return diskFree(s.dir)
}

// mapErr turns Badger's write errors into the package's sentinels. Badger often flattens
// wrapped errors into text, so the disk-full check also looks at the message.
func mapErr(err error) error {
	if err == nil || errors.Is(err, ErrDiskFull) {
		return err
	}
	msg := err.Error()
	if errors.Is(err, syscall.ENOSPC) || strings.Contains(msg, "no space left on device") ||
		strings.Contains(msg, "not enough space on the disk") {
		return fmt.Errorf("%w: %w", ErrDiskFull, err)
	}
	return err
}

// badgerLogger forwards Badger's warnings and errors to slog. Info and debug lines are dropped:
// Badger reports every compaction and flush at info level.
type badgerLogger struct{ log *slog.Logger }

func (l badgerLogger) Errorf(f string, a ...any) {
	l.log.Error("Badger error", "detail", strings.TrimSpace(fmt.Sprintf(f, a...)))
}

func (l badgerLogger) Warningf(f string, a ...any) {
	l.log.Warn("Badger warning", "detail", strings.TrimSpace(fmt.Sprintf(f, a...)))
}

func (badgerLogger) Infof(string, ...any)  {}
func (badgerLogger) Debugf(string, ...any) {}
