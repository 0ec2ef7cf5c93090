// Where the .proto lives and how it is loaded (spec §8). One options object serves both loaders so
// the plain objects grpc-js hands us and the ones protobufjs produces in tests have the same shape.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type * as protoLoader from '@grpc/proto-loader';
import type protobuf from 'protobufjs';
import { PACKAGE_ROOT } from '../package-root.js';

// Both libraries are CommonJS and ~10 MB each: required on first use (the first gRPC connection or
// listen), so that importing the package does not load them. Same instances as an ESM import.
const require = createRequire(import.meta.url);

export const PROTO_PACKAGE = 'zentinel.agent.v2';
export const PROTO_SERVICE = `${PROTO_PACKAGE}.AgentServiceV2`;

/** Absolute path of proto/agent_v2.proto. */
export const PROTO_FILE: string = join(PACKAGE_ROOT, 'proto', 'agent_v2.proto');

/**
 * Conversion rules for every proto ↔ plain-object conversion (the mapping in proto-*.ts relies on them):
 * - keepCase: field names exactly as in the .proto (snake_case), like the wire JSON;
 * - longs: Number — every uint64 arrives as a JS number (spec: our values stay below 2^53);
 * - enums: Number — enum-valued fields are int32 anyway (§8.2);
 * - bytes: left at the default, i.e. Node Buffers;
 * - defaults: true (with arrays/objects) — unset plain scalars arrive as 0 / '' / false, repeated
 *   fields as [], maps as {}, unset message fields as null. proto3 `optional` fields (explicit
 *   presence) are NOT defaulted: unset ones are simply absent, which is how "unset" is detected;
 * - oneofs: true — each oneof also appears as a virtual key naming the member that is set
 *   (`message: 'cancel'`, `decision: 'block'`); members that are not set are absent;
 * - json: false (the default) — keeps IEEE ±Infinity in doubles (histogram `le`, §7.5) instead of
 *   turning it into the string "Infinity".
 * Synthetic oneofs of proto3 `optional` fields also show up as keys such as `_error: 'error'`;
 * the mapping ignores them.
 */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = Object.freeze({
  keepCase: true,
  longs: Number,
  enums: Number,
  defaults: true,
  arrays: true,
  objects: true,
  oneofs: true,
});

let packageDefinition: protoLoader.PackageDefinition | undefined;
let root: protobuf.Root | undefined;

/** The package definition for @grpc/grpc-js (`grpc.loadPackageDefinition`), loaded once. */
export function loadProtoDefinition(): protoLoader.PackageDefinition {
  packageDefinition ??= (require('@grpc/proto-loader') as typeof protoLoader).loadSync(PROTO_FILE, { ...PROTO_LOADER_OPTIONS });
  return packageDefinition;
}

/** The same schema as a protobufjs Root (snake_case field names), for byte-level work and tests. */
export function loadProtoRoot(): protobuf.Root {
  if (root === undefined) {
    const r = new (require('protobufjs') as typeof protobuf).Root();
    r.loadSync(PROTO_FILE, { keepCase: true });
    r.resolveAll();
    root = r;
  }
  return root;
}

/** A message type of the package by its short name, e.g. protoType('ProxyToAgent'). */
export function protoType(name: string): protobuf.Type {
  return loadProtoRoot().lookupType(`${PROTO_PACKAGE}.${name}`);
}
