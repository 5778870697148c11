// A write-ahead log whose records fail a check before whole records that come after them: damage, not the torn tail
// of a crash (storage/wal-segment.ts wholeRecordAfter). The node refuses to start rather than cut the whole records
// away, as ZooKeeper refuses a log whose checksum fails; the message says what an operator can do.
export class WalDamaged extends Error {
  constructor(
    readonly file: string,
    /** Where the valid records end: truncating the file to this many bytes drops the damage and all after it. */
    readonly validBytes: number,
    readonly lastGoodZxid: number,
    readonly next: { offset: number; zxid: number },
  ) {
    super(
      `the write-ahead log ${file} is damaged: the record after zxid ${lastGoodZxid} (at byte ${validBytes}) fails its check, ` +
        `yet a whole record (zxid ${next.zxid}, at byte ${next.offset}) follows it, so this is not the torn end of a write a crash ` +
        `interrupted and cutting it would drop written records. This node will not start on it. In an ensemble, empty this ` +
        `member's dataDir but myid: it catches up from the others. Standalone, restore a snapshot (zkgate restore); or, ` +
        `accepting the loss of zxid ${lastGoodZxid + 1} onward (after a power loss these may be a torn last write that was never ` +
        `acknowledged), cut the log there: truncate -s ${validBytes} ${file}`,
    );
  }
}
