// PLACEHOLDER until the reverse-listener work lands: the contract the connection host uses.
import type { Socket } from 'node:net';
import { ErrorCode, zapError } from '../protocol/errors.js';
import type { HostReport, ReverseListenerSettings } from '../pool/host-protocol.js';
import type { RegistrationRequest } from '../protocol/types.js';

export interface ReverseListenerHooks {
  report(report: HostReport): void;
  admitted(socket: Socket, leftover: Buffer, registration: RegistrationRequest, connectionId: number): void;
}

export class ReverseListener {
  constructor(
    readonly listenerId: number,
    readonly settings: ReverseListenerSettings,
    readonly hooks: ReverseListenerHooks,
  ) {}
  start(): Promise<{ path?: string; tcpAddress?: string }> {
    return Promise.reject(zapError(ErrorCode.InvalidConfig, 'reverse listener not available'));
  }
  released(_agentId: string): void {}
  close(): Promise<void> {
    return Promise.resolve();
  }
}
