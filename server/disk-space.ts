// What a failed storage write says about the disk: LMDB reports a full filesystem as a failed commit (an I/O error on
// some filesystems), which does not tell an operator to free space.
import { statfsSync } from 'node:fs';

export interface DiskRoom {
  freeBytes: number;
  totalBytes: number;
}

/** Free and total bytes of the filesystem holding `dir`; undefined when it cannot be read. */
export function freeSpace(dir: string): DiskRoom | undefined {
  try {
    const s = statfsSync(dir);
    return { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
  } catch {
    return undefined;
  }
}

/** " (the filesystem holding … is full: N bytes free)" when under 64 MiB or 1 % is left, else "". */
export function diskFullNote(dir: string, room: DiskRoom | undefined): string {
  if (room === undefined || room.freeBytes >= Math.max(64 << 20, room.totalBytes / 100)) return '';
  return ` (the filesystem holding ${dir} is full: ${room.freeBytes} bytes free)`;
}
