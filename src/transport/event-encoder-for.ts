// The router's encoder for a connection's negotiated encoding ('json', 'msgpack', or gRPC's
// 'protobuf'); undefined for an encoding no transport here writes. A host with an encoder of its own
// (a worker packs JSON straight into its send batch) is asked first (HostHandle.eventEncoder).
import type { EventEncoder } from './event-encoder.js';
import { framedEventEncoder, jsonFramedEventEncoder } from './event-encoder.js';
import { GRPC_ENCODING, grpcEventEncoder } from './grpc-event-encoder.js';

const encoders = new Map<string, EventEncoder>([
  ['json', jsonFramedEventEncoder],
  ['msgpack', framedEventEncoder('msgpack')],
  [GRPC_ENCODING, grpcEventEncoder],
]);

export function eventEncoderFor(encoding: string): EventEncoder | undefined {
  return encoders.get(encoding);
}
