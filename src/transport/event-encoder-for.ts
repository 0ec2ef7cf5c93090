// The router's encoder for a connection's negotiated encoding ('json', 'msgpack', or gRPC's
// 'protobuf'), and whether its host runs on another thread (JSON then travels packed); undefined
// for an encoding no transport here writes.
import type { EventEncoder } from './event-encoder.js';
import { framedEventEncoder, jsonFramedEventEncoder, jsonPackedEventEncoder } from './event-encoder.js';
import { GRPC_ENCODING, grpcEventEncoder } from './grpc-event-encoder.js';

const encoders = new Map<string, EventEncoder>([
  ['json', jsonFramedEventEncoder],
  ['msgpack', framedEventEncoder('msgpack')],
  [GRPC_ENCODING, grpcEventEncoder],
]);

export function eventEncoderFor(encoding: string, hostOnOtherThread: boolean): EventEncoder | undefined {
  if (encoding === 'json' && hostOnOtherThread) return jsonPackedEventEncoder;
  return encoders.get(encoding);
}
