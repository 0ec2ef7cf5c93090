// The dialer of a proxy-dialled endpoint. Reverse connections are accepted, never dialled: their
// actor is given an AcceptedDialer by the host that accepted the socket.
import type { OpenConnectionCommand } from '../contract/host-messages.js';
import { ErrorCode, zapError } from '../protocol/errors.js';
import type { Dialer } from './dialer.js';
import { GrpcDialer } from './grpc-dialer.js';
import { UdsDialer } from './uds-dialer.js';

export function dialerFor(command: OpenConnectionCommand): Dialer {
  switch (command.endpoint.transport) {
    case 'uds':
      return new UdsDialer(command);
    case 'grpc':
      return new GrpcDialer(command);
    default:
      throw zapError(ErrorCode.ConnectFailed, `No dialer for transport '${command.endpoint.transport}'`, { agentId: command.agentId });
  }
}
