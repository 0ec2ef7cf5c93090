// Example agent "auth": a request passes only with `authorization: Bearer <token>`.
import { timingSafeEqual } from 'node:crypto';
import type { AgentHandler } from '../handler.js';
import { allow, block } from '../reply.js';

export interface AuthOptions {
  /** The one accepted bearer token. */
  token: string;
  /** Value of `x-auth-subject` on success (default "authenticated"). */
  subject?: string;
}

function parseOptions(options: unknown): AuthOptions {
  const o = (options ?? {}) as Partial<AuthOptions>;
  if (typeof o.token !== 'string' || o.token === '') throw new TypeError("auth example: option 'token' (a non-empty string) is required");
  return o.subject === undefined ? { token: o.token } : { token: o.token, subject: String(o.subject) };
}

/** Header names arrive as sent (HTTP/1 may capitalise), so look them up case-insensitively. */
function headerValues(headers: Record<string, string[]>, name: string): string[] {
  const exact = headers[name];
  if (exact !== undefined) return exact;
  for (const key of Object.keys(headers)) if (key.toLowerCase() === name) return headers[key] ?? [];
  return [];
}

/** Constant-time comparison so the response time does not reveal how much of the token matched. */
function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export default function createHandler(options?: unknown): AgentHandler {
  const { token, subject = 'authenticated' } = parseOptions(options);
  const expected = `Bearer ${token}`;
  // Built once: a builder never changes, so every request may return the same one.
  const denied = block(401)
    .withBody('Unauthorized')
    .withBlockHeader('www-authenticate', 'Bearer')
    .withTag('auth')
    .withReasonCode('AUTH_REQUIRED');
  const passed = allow().setRequestHeader('x-auth-subject', subject);
  return {
    onRequestHeaders(e) {
      const values = headerValues(e.headers, 'authorization');
      if (values.length !== 1 || !sameText(values[0] as string, expected)) return denied;
      return passed;
    },
  };
}
