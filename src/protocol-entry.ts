// Public API of the `/protocol` subpath: what tools and tests that speak the wire directly need —
// the domain (golden) types, payload codecs, frame encoder/decoder, the .proto file, and one-connection
// clients. Re-exports only.

export * from './protocol/types.js';
export * from './protocol/errors.js';
export { jsonCodec, msgpackCodec, codecFor, type PayloadCodec, type ParsedResponse } from './protocol/payload-codec.js';
export { encodeFrame, MAX_FRAME_LENGTH, MAX_PAYLOAD_LENGTH } from './protocol/frame-encoder.js';
export { FrameDecoder } from './protocol/frame-decoder.js';
export { MessageType, messageTypeName } from './protocol/message-type.js';
export { PROTO_FILE } from './transport/proto-schema.js';
export { FramedConnection, type CallOptions, type FramedConnectionEvents } from './connection/framed-connection.js';
export { connectUdsAgent, type UdsAgentClientOptions } from './connection/uds-agent-client.js';
export { connectGrpcAgent, type GrpcAgentClientOptions } from './connection/grpc-agent-client.js';
export type { GrpcConnection } from './connection/grpc-connection.js';
