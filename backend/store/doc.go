// Package store keeps Warden's data in an embedded Badger database: normalized audit events
// with their secondary indexes, the sync cursor of each organization, the directory (users,
// domains, actions) and generic JSON configuration records.
//
// # Key scheme
//
// Every key starts with an ASCII kind prefix. ‹o› is the org's number: a uvarint handed out by
// the registry on the org's first write (orgs.go), because repeating a 36-character org UUID
// in the eight keys of every event doubled key sizes. Other variable components (index values,
// emails) are a uvarint length followed by the bytes, shown as ‹x›. Length prefixes make the
// encoding prefix-free for any bytes, so account IDs with ':' or '/', or values with NUL bytes,
// cannot collide with or leak into a neighbouring key; no separator byte is needed. A trailing
// id or key is the rest of the key and needs no length.
//
// ‹t›‹seq› is the suffix shared by an event's primary key and all its index keys: ‹t› is the
// event time as 8 bytes big-endian, Unix nanoseconds with the sign bit flipped so byte order
// equals time order (times outside the years 1678–2262 are clamped), and ‹seq› is the org's
// event counter at insertion, 8 bytes big-endian, which orders ties and keeps keys short.
//
//	key                                value                    purpose
//	meta/schema                        uvarint version          schema version, see migrate.go
//	meta/orgseq                        uvarint                  last org number handed out
//	org/‹org›                          uvarint org number ‹o›   org registry
//	ev/‹o›‹t›‹seq›                     binary event (codec.go)  primary record, time-ordered
//	eid/‹o›id                          ‹t›‹seq›                 dedup and lookup by event id
//	ix/u/‹o›‹lower actor id›‹t›‹seq›   empty                    user index (actor id)
//	ix/i/‹o›‹ip›‹t›‹seq›               empty                    IP index (canonical and raw)
//	ix/a/‹o›‹action›‹t›‹seq›           empty                    action index
//	ix/c/‹o›‹lower country›‹t›‹seq›    empty                    country index
//	ix/p/‹o›‹lower product›‹t›‹seq›    empty                    product index
//	dv/‹o›‹field tag›‹lower value›     display value            distinct values (tags a, c, p)
//	dv/‹o›e‹lower email›               actor id                 email to actor, for the user filter
//	cnt/‹o›events                      uint64 big-endian        number of stored events
//	cur/‹o›                            JSON Cursor              sync position
//	usr/‹o›accountId                   JSON audit.User          directory
//	uem/‹o›‹lower email›               accountId                user lookup by email
//	dom/‹o›                            JSON []audit.Domain      claimed domains
//	act/‹o›                            JSON []audit.ActionInfo  action catalogue
//	cfg/key                            JSON                     connectors, settings
//
// A query walks one index backwards (newest first) without reading values and builds each
// primary key from the suffix. Deleting an org drops every prefix that carries its ‹o›; the
// number itself is never reused.
//
// # Consistency and durability
//
// CommitPage writes a page's new events, all their index entries, the event counter, the
// distinct-value entries and the cursor in one transaction, so a crash leaves either the whole
// page with its cursor or nothing of it. Writes are not synced to disk one by one
// (SyncWrites is off, which keeps a backfill fast): a power loss may lose the last committed
// transactions, but since the cursor travels in the same transaction the lost page is simply
// fetched again, and deduplication by event id keeps any replay from storing duplicates.
//
// A page too large for one Badger transaction is split; only the last part carries the cursor
// (see CommitPage), which keeps the same guarantee.
//
// # Memory
//
// Event values go to Badger's value log (they are larger than the value threshold) and
// everything else to the LSM tree, which keeps compaction cheap during a backfill. Badger reads
// and writes its files through shared memory mappings and never releases a touched page, so
// on Linux the store periodically drops those pages from the resident set (trim_linux.go);
// they stay in the page cache.
package store
