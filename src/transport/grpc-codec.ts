// Byte-level gRPC message codec shared by both sides (spec §8). grpc-js moves raw Buffers for us
// (identity (de)serializers), so every message is encoded and decoded exactly once, here, and a
// message that does not decode becomes a typed error instead of a grpc-js INTERNAL status.
//
// Encoding writes the mapping's plain objects straight into protobufjs' encoder (no fromObject
// copy): the mapping already builds the right JS types and writes `undefined` for defaults.
// Decoding uses toObject with PROTO_LOADER_OPTIONS, the shape proto-mapping.ts expects.
import type protobuf from 'protobufjs';
import { PROTO_LOADER_OPTIONS, PROTO_SERVICE, protoType } from './proto-schema.js';
import type { PbAgentToProxy, PbProxyToAgent } from '../protocol/proto-mapping.js';
import { protocolError } from '../protocol/errors.js';

/** HTTP/2 paths of the three rpcs (spec §8.1). */
export const PROCESS_STREAM_PATH = `/${PROTO_SERVICE}/ProcessStream`;
export const PROCESS_EVENT_PATH = `/${PROTO_SERVICE}/ProcessEvent`;
export const CONTROL_STREAM_PATH = `/${PROTO_SERVICE}/ControlStream`;

/** grpc-js (de)serializer that passes the bytes through untouched. */
export function identityBytes(value: Buffer): Buffer {
  return value;
}

let proxyToAgent: protobuf.Type | undefined;
let agentToProxy: protobuf.Type | undefined;

function p2a(): protobuf.Type {
  return (proxyToAgent ??= protoType('ProxyToAgent'));
}
function a2p(): protobuf.Type {
  return (agentToProxy ??= protoType('AgentToProxy'));
}

/** A protobufjs writer result as a Buffer without copying. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function encodeProxyToAgent(message: PbProxyToAgent): Buffer {
  return asBuffer(
    p2a()
      .encode(message as protobuf.Message)
      .finish(),
  );
}

export function encodeAgentToProxy(message: PbAgentToProxy): Buffer {
  return asBuffer(
    a2p()
      .encode(message as protobuf.Message)
      .finish(),
  );
}

/** Bytes that are not a ProxyToAgent → ZAP_PROTOCOL_ERROR. */
export function decodeProxyToAgent(bytes: Uint8Array): PbProxyToAgent {
  const T = p2a();
  try {
    return T.toObject(T.decode(bytes), PROTO_LOADER_OPTIONS) as PbProxyToAgent;
  } catch (err) {
    throw protocolError(`Malformed ProxyToAgent message: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** Bytes that are not an AgentToProxy → ZAP_PROTOCOL_ERROR. */
export function decodeAgentToProxy(bytes: Uint8Array): PbAgentToProxy {
  const T = a2p();
  try {
    return T.toObject(T.decode(bytes), PROTO_LOADER_OPTIONS) as PbAgentToProxy;
  } catch (err) {
    throw protocolError(`Malformed AgentToProxy message: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** First byte of a ProxyToAgent whose oneof member is `configure` (field 10, length-delimited). */
export const CONFIGURE_TAG = (10 << 3) | 2;

/**
 * The `config_version` of an encoded ProxyToAgent.configure, i.e. the cid its acknowledgement
 * carries (spec §10.7); undefined when `bytes` is not a Configure. Only Configure frames pay for
 * this decode; every other event is recognised by its first byte.
 */
export function configureReplyId(bytes: Uint8Array): string | undefined {
  if (bytes[0] !== CONFIGURE_TAG) return undefined;
  const decoded = decodeProxyToAgent(bytes);
  return decoded.configure?.config_version ?? '';
}
