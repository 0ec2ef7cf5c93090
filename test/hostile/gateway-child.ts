// A real `zap gateway` child process for the hostile gateway tests: a KDL file written under the
// OS temp dir, the listener address read from its output, its RSS read from /proc, and raw HTTP
// over a socket for requests a well-behaved client cannot send.
import { rmSync, writeFileSync, readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { rawExchange as rawExchangeWith, rawSocket as rawSocketTo } from '../support/raw-http.js';
import { zap, waitForOutput, type ZapProcess } from '../support/zap-process.js';

let configs = 0;

export interface GatewayChild extends ZapProcess {
  /** `host:port` of the first listener. */
  address: string;
  host: string;
  port: number;
}

/** Starts `zap gateway` on `kdl` (its listener bound to 127.0.0.1:0); resolves once it listens. */
export async function startGateway(kdl: string): Promise<GatewayChild> {
  const file = join(tmpdir(), `zap-hostile-gateway-${process.pid}-${++configs}.kdl`);
  writeFileSync(file, kdl);
  after(() => rmSync(file, { force: true }));
  const gw = zap(['gateway', '--config', file, '--metrics', '127.0.0.1:0', '--workers', '0']);
  // Both streams: a refused configuration is told on stderr, and shows in the failure.
  const [, address] = await waitForOutput(() => gw.stdout() + gw.stderr(), /listener "\w+" on http:\/\/([\d.]+:\d+)/);
  const at = (address as string).lastIndexOf(':');
  return { ...gw, address: address as string, host: (address as string).slice(0, at), port: Number((address as string).slice(at + 1)) };
}

/** The resident set of process `pid` in bytes (Linux /proc). */
export function rssOf(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for ${pid}`);
  return Number(kb) * 1024;
}

/** A raw connection to `gw`'s listener. */
export function rawSocket(gw: GatewayChild): Promise<Socket> {
  return rawSocketTo(gw.port, gw.host);
}

/** Writes `text` on a fresh connection; resolves with everything the gateway sent before closing (at most `guardMs`). */
export function rawExchange(gw: GatewayChild, text: string, guardMs = 10_000): Promise<string> {
  return rawExchangeWith(gw.port, text, gw.host, guardMs);
}
