// Byte form of the hot-path messages between router and worker: one msgpack buffer per tick
// per direction (design rule 3: encode once, move bytes; structured clone of many small objects
// costs 2–3× more).
import { Packr } from 'msgpackr';
import type { CancelItem, ResultItem, SendItem } from './host-protocol.js';

const packr = new Packr({ useRecords: false, moreTypes: false });

export function packRequests(sends: SendItem[], cancels: CancelItem[]): Uint8Array {
  return packr.pack([sends, cancels]);
}

export function unpackRequests(bytes: Uint8Array): [SendItem[], CancelItem[]] {
  return packr.unpack(bytes) as [SendItem[], CancelItem[]];
}

export function packResults(results: ResultItem[]): Uint8Array {
  return packr.pack(results);
}

export function unpackResults(bytes: Uint8Array): ResultItem[] {
  return packr.unpack(bytes) as ResultItem[];
}
