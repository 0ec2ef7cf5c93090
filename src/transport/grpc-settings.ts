// gRPC channel settings and TLS options (spec §11 grpc* options), with their config-time checks.
// No grpc-js here: pool and config code use these without loading the gRPC stack, which
// grpc-channel.ts brings in on the first gRPC connection.
import { existsSync, readFileSync } from 'node:fs';
import { ErrorCode, zapError } from '../protocol/errors.js';

/**
 * TLS material for gRPC. Each of `ca`, `cert`, `key` is either PEM text (anything containing
 * "-----BEGIN") or the path of a PEM file, read when the channel is opened (so a reconnect picks up
 * a rotated certificate). `cert` + `key` = client certificate (mutual TLS). `insecure` skips
 * verification of the agent's certificate (tests, never production). `serverName` is the name
 * checked against the agent's certificate when it differs from the dialled host.
 */
export interface GrpcTlsOptions {
  ca?: string;
  cert?: string;
  key?: string;
  insecure?: boolean;
  serverName?: string;
}

/** Per-connection channel settings (spec §11 grpc* options). */
export interface GrpcChannelSettings {
  keepaliveTimeMs: number;
  keepaliveTimeoutMs: number;
  /** Largest message we send; a larger event fails with ZAP_FRAME_TOO_LARGE (spec §8.4 step 6). */
  maxSendBytes: number;
  maxReceiveBytes: number;
  /** null = cleartext h2c, unless the endpoint itself says https://. */
  tls: GrpcTlsOptions | null;
}

export const DEFAULT_GRPC_CHANNEL_SETTINGS: Readonly<GrpcChannelSettings> = Object.freeze({
  keepaliveTimeMs: 60_000,
  keepaliveTimeoutMs: 20_000,
  maxSendBytes: 4_194_304,
  maxReceiveBytes: 16_777_216,
  tls: null,
});

/** PEM text as is; anything else is a file path. */
export function pemOf(value: string): Buffer {
  if (value.includes('-----BEGIN')) return Buffer.from(value);
  return readFileSync(value);
}

/** Config-time check of one TLS material option: PEM text or an existing file. */
export function isPemOrFile(value: unknown): boolean {
  return typeof value === 'string' && value.length > 0 && (value.includes('-----BEGIN') || existsSync(value));
}

const TLS_KEYS = new Set(['ca', 'cert', 'key', 'insecure', 'serverName']);

/** Config-time validation of GrpcTlsOptions: known keys, PEM text or existing files, cert with key. */
export function validateGrpcTls(value: unknown, where: string): void {
  const bad = (why: string): never => {
    throw zapError(ErrorCode.InvalidConfig, `${where} ${why}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad('must be an object');
  const t = value as Record<string, unknown>;
  for (const key of Object.keys(t)) if (!TLS_KEYS.has(key)) bad(`has unknown key '${key}'`);
  for (const key of ['ca', 'cert', 'key'] as const) {
    if (t[key] !== undefined && !isPemOrFile(t[key])) bad(`.${key} must be PEM text or the path of an existing file`);
  }
  if ((t['cert'] === undefined) !== (t['key'] === undefined)) bad('needs both cert and key for a client certificate');
  if (t['insecure'] !== undefined && typeof t['insecure'] !== 'boolean') bad('.insecure must be a boolean');
  if (t['serverName'] !== undefined && (typeof t['serverName'] !== 'string' || t['serverName'] === ''))
    bad('.serverName must be a non-empty string');
}
