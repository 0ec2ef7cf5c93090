// A real `zap gateway` child process for the hostile gateway tests: a KDL file written under the
// OS temp dir, the listener address read from its output, its RSS read from /proc, and raw HTTP
// over a socket for requests a well-behaved client cannot send.
import { rmSync, writeFileSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
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

/** A raw connection to `gw` (errors ignored: the gateway closing on us is what some tests expect). */
export function rawSocket(gw: GatewayChild): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect(gw.port, gw.host, () => resolve(socket));
    socket.on('error', () => {});
  });
}

/** Writes `text` on a fresh connection; resolves with everything the gateway sent before closing (at most `guardMs`). */
export async function rawExchange(gw: GatewayChild, text: string, guardMs = 10_000): Promise<string> {
  const socket = await rawSocket(gw);
  return answerOf(socket, guardMs, () => socket.write(text));
}

/** Resolves with what `socket` received until the peer closed it; rejects after `guardMs`. */
export function answerOf(socket: Socket, guardMs: number, start: () => void = () => {}): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`not closed within ${guardMs} ms; got ${JSON.stringify(text.slice(0, 200))}`));
    }, guardMs);
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
    start();
  });
}
