// Router → host sends and cancels of one tick as bytes (workers: N), in the order the router made
// them. The events were encoded once on the router; their bytes are copied once into the batch (a
// JSON text is framed as it is copied, spec §2.1), and the host writes views of the batch to its
// sockets. Nothing in a send batch is cloned.
import { CANCEL_REASONS, type CancelReason } from '../protocol/types.js';
import { FRAME_HEADER_LENGTH, writeFrameHeader } from '../protocol/frame-encoder.js';
import { packedJsonFrame } from '../transport/packed-json-frame.js';
import { PackedJsonWriter } from '../transport/packed-json.js';
import { BatchReader, BatchWriter } from './batch-bytes.js';
import type { CancelItem, SendItem } from './host-messages.js';

const SEND = 1;
const CANCEL = 2;
/** A send whose JSON payload is packed: the host writes its text (transport/packed-json.ts). */
const SEND_PACKED = 3;

/** Router side: collects sends and cancels until `take()`. */
export class SendBatchWriter {
  private readonly out = new BatchWriter();
  private items = 0;

  get size(): number {
    return this.items;
  }

  send(item: SendItem): void {
    const o = this.out;
    this.items++;
    const frame = item[3];
    o.u8(frame instanceof PackedJsonWriter ? SEND_PACKED : SEND);
    o.f64(item[0]);
    o.f64(item[1]);
    o.str(item[2]);
    if (frame instanceof PackedJsonWriter) {
      o.u8(item[4]);
      o.u32(frame.length);
      o.rawFrom(frame.bytes, frame.length);
      frame.release();
      return;
    }
    if (typeof frame !== 'string') {
      o.u32(frame.byteLength);
      o.raw(frame);
      return;
    }
    // A frame around the text, written in place: u32 byte length, then the §2.1 header and payload.
    const at = o.skip(4 + FRAME_HEADER_LENGTH);
    const written = o.utf8(frame);
    o.patchU32(at, FRAME_HEADER_LENGTH + written);
    writeFrameHeader(o.bytes, at + 4, written, item[4]);
  }

  cancel(item: CancelItem): void {
    const o = this.out;
    this.items++;
    o.u8(CANCEL);
    o.f64(item[0]);
    o.u8(CANCEL_REASONS.indexOf(item[1]));
    o.u8(item[2] === true ? 1 : 0);
  }

  /** The batch as a fresh ArrayBuffer, to transfer: its item count, then the items. */
  take(): ArrayBuffer {
    this.out.patchU32(0, this.items);
    this.items = 0;
    return this.out.take();
  }
}

export interface SendBatchHandlers {
  /** The frame is whole bytes (frameType 0): a view into the batch, or a packed payload's own frame. */
  send(item: SendItem): void;
  cancel(item: CancelItem): void;
}

/** Host side: hands on each item of `bytes` in order. A corrupt batch throws ZAP_ERROR after the items before the damage. */
export function readSendBatch(bytes: ArrayBuffer, on: SendBatchHandlers): void {
  const r = new BatchReader(bytes, 'send batch');
  for (let n = r.count(); n > 0; n--) {
    const tag = r.u8();
    const requestId = r.f64();
    if (tag === SEND) {
      const connectionId = r.f64();
      const correlationId = r.str();
      on.send([requestId, connectionId, correlationId, r.view8(r.u32()), 0]);
    } else if (tag === SEND_PACKED) {
      const connectionId = r.f64();
      const correlationId = r.str();
      const frameType = r.u8();
      on.send([requestId, connectionId, correlationId, packedJsonFrame(r.view8(r.u32()), frameType), 0]);
    } else if (tag === CANCEL) {
      const reason: CancelReason | undefined = CANCEL_REASONS[r.u8()];
      if (reason === undefined) throw r.corrupt('unknown cancel reason');
      on.cancel([requestId, reason, r.u8() === 1]);
    } else throw r.corrupt(`unknown send-batch tag ${tag}`);
  }
  r.end();
}
