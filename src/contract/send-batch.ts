// Router → host sends and cancels of one tick as bytes (workers: N), in the order the router made
// them. The events were encoded once on the router; their bytes are copied once into the batch (a
// JSON text is framed as it is copied, spec §2.1), or, for a packed JSON event, packed straight
// into it. The host writes views of the batch to its sockets. Nothing in a send batch is cloned.
// A large batch travels as the writer's whole buffer, and a batch the host read without keeping a
// view of it comes back with the next results (host-port.ts) for the writer to go on in: no copy, no
// fresh memory.
import { CANCEL_REASONS, type CancelReason, type EventKind, type EventMap } from '../protocol/types.js';
import { ErrorCode, zapError } from '../protocol/errors.js';
import { FRAME_HEADER_LENGTH, writeFrameHeader } from '../protocol/frame-encoder.js';
import { packOrStringify, type EncodedEvent, type EventEncoder } from '../transport/event-encoder.js';
import { packedJsonFrame } from '../transport/packed-json-frame.js';
import { PackedJsonWriter } from '../transport/packed-json.js';
import { BatchReader, BatchWriter } from './batch-bytes.js';
import { COPY_BELOW_BYTES, isReusableBatch, MAX_SPARES } from './host-port.js';
import type { CancelItem, SendItem } from './host-messages.js';

const SEND = 1;
const CANCEL = 2;
/** A send whose JSON payload is packed: the host writes its text (transport/packed-json.ts). */
const SEND_PACKED = 3;
/** What goes in front of a packed payload: the tag, the request id and the payload's u32 length. */
const PACKED_HEAD = 1 + 8 + 4;

/** Router side: collects sends and cancels until `take()`. */
export class SendBatchWriter {
  private readonly out = new BatchWriter();
  private items = 0;
  /** Packs JSON events straight into `out`, behind room for their head (no copy: issue 13). */
  private readonly packer = new PackedJsonWriter();
  /** Where the packed event waiting for its send() begins; -1 when none waits. */
  private packedAt = -1;
  /** Buffers of earlier batches the host gave back, for the writer to go on in. */
  private readonly spares: ArrayBuffer[] = [];

  /**
   * JSON events of this batch's host: packed in place, after the batch's last item, and claimed by the
   * send() that follows; one the packed form cannot carry comes back as its JSON text.
   */
  readonly jsonEncoder: EventEncoder = {
    encode: (kind, event, correlationId) => this.packInPlace(kind, event, correlationId),
  };

  get size(): number {
    return this.items;
  }

  send(item: SendItem): void {
    const o = this.out;
    const frame = item[3];
    // Counted once it is sure to be written: a refused claim leaves the batch as it was.
    if (frame instanceof PackedJsonWriter) this.claimPacked(item[0], frame);
    this.items++;
    if (frame instanceof PackedJsonWriter) {
      o.f64(item[1]);
      o.u8(item[4]);
      o.str(item[2]);
      return;
    }
    o.u8(SEND);
    o.f64(item[0]);
    o.f64(item[1]);
    o.str(item[2]);
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

  /**
   * The batch as an ArrayBuffer of its own, to transfer: its head, then the items. A large one is the
   * writer's whole buffer when a spare is there to go on in (the host gives batches back when it keeps
   * no views of them), or when it fills at least half the buffer. Any other is copied out at its size:
   * postMessage copies what it does not transfer (it would copy the whole buffer), and a host that
   * keeps views of a batch (raw frames) holds all of it until those frames are written.
   */
  take(): ArrayBuffer {
    const o = this.out;
    o.patchU32(0, this.items);
    this.items = 0;
    this.packedAt = -1;
    const whole = o.length >= COPY_BELOW_BYTES && (this.spares.length > 0 || o.length * 2 >= o.capacityBytes);
    const batch = whole ? o.handOver(this.spares.pop()) : o.take();
    // take() lets a buffer grown past KEEP_BYTES go: the packer must not keep it alive either.
    this.packer.useBufferOf(this.out);
    return batch;
  }

  /** A large batch's buffer, given back by the host that read it (it holds no view of it): kept to reuse. */
  giveBack(buffer: ArrayBuffer): void {
    if (this.spares.length < MAX_SPARES && isReusableBatch(buffer)) this.spares.push(buffer);
  }

  private packInPlace<K extends EventKind>(kind: K, event: EventMap[K], correlationId: string): EncodedEvent {
    const o = this.out;
    const packer = this.packer;
    this.packedAt = -1;
    packer.appendTo(o, PACKED_HEAD);
    let packed: true | string;
    try {
      packed = packOrStringify(packer, kind, event, correlationId);
    } finally {
      o.useBufferOf(packer); // the pack may have grown it
    }
    if (packed !== true) return packed;
    this.packedAt = o.length;
    return packer;
  }

  /** The packed payload is in place: its head goes in front, and the batch takes it in. */
  private claimPacked(requestId: number, packer: PackedJsonWriter): void {
    const o = this.out;
    const at = this.packedAt;
    // Only this batch packs in place; a payload anywhere else is not in the batch to claim.
    if (packer !== this.packer) throw zapError(ErrorCode.Error, 'send batch: a packed event from another writer');
    // The router sends right after it encodes: anything written in between would sit inside the payload.
    if (at !== o.length) throw zapError(ErrorCode.Error, 'send batch: a packed event was sent after other writes, or twice');
    this.packedAt = -1;
    const end = this.packer.length;
    o.patchU8(at, SEND_PACKED);
    o.patchF64(at + 1, requestId);
    o.patchU32(at + 9, end - at - PACKED_HEAD);
    o.length = end;
  }
}

export interface SendBatchHandlers {
  /** The frame is whole bytes (frameType 0): a view into the batch, or a packed payload's own frame. */
  send(item: SendItem): void;
  cancel(item: CancelItem): void;
}

/**
 * Host side: hands on each item of `bytes` in order; true when no item was handed a view of `bytes`
 * (it may go back to the router then). A corrupt batch throws ZAP_ERROR after the items before the damage.
 */
export function readSendBatch(bytes: ArrayBuffer, on: SendBatchHandlers): boolean {
  const r = new BatchReader(bytes, 'send batch');
  let viewed = false;
  for (let n = r.count(); n > 0; n--) {
    const tag = r.u8();
    const requestId = r.f64();
    if (tag === SEND) {
      const connectionId = r.f64();
      const correlationId = r.str();
      viewed = true;
      on.send([requestId, connectionId, correlationId, r.view8(r.u32()), 0]);
    } else if (tag === SEND_PACKED) {
      const payload = r.view8(r.u32());
      const connectionId = r.f64();
      const frameType = r.u8();
      const correlationId = r.str();
      on.send([requestId, connectionId, correlationId, packedJsonFrame(payload, frameType), 0]);
    } else if (tag === CANCEL) {
      const reason: CancelReason | undefined = CANCEL_REASONS[r.u8()];
      if (reason === undefined) throw r.corrupt('unknown cancel reason');
      on.cancel([requestId, reason, r.u8() === 1]);
    } else throw r.corrupt(`unknown send-batch tag ${tag}`);
  }
  r.end();
  return !viewed;
}
