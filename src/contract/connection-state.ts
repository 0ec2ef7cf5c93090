// The lifecycle states a connection host reports to the router (spec §10.4). The connection
// machine runs them; the router only reads them, so their names belong to the contract.
export type ConnectionStateName = 'connecting' | 'handshaking' | 'ready' | 'paused' | 'draining' | 'backoff' | 'closed';
