// The one binary encoding of values that leave the process or outlive it: peer frames, log entries and the
// write-ahead log. Plain msgpack (no records or extensions) so that a value decodes the same on any peer.
import { Packr } from 'msgpackr';

const packr = new Packr({ useRecords: false, moreTypes: false, bundleStrings: false });

export function encodeValue(v: unknown): Buffer {
  return packr.pack(v);
}

export function decodeValue(b: Uint8Array): unknown {
  return packr.unpack(b);
}
