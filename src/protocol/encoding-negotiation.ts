// Encoding negotiation of the UDS handshake (spec §4.3), both sides. Only "json" and "msgpack" ever
// go on the wire: any other name makes the whole handshake unparsable for Rust peers.
import type { Encoding, EncodingSetting } from './types.js';
import { ErrorCode, zapError } from './errors.js';

const OFFERS: Readonly<Record<EncodingSetting, readonly Encoding[]>> = {
  json: ['json'],
  'prefer-msgpack': ['msgpack', 'json'],
  msgpack: ['msgpack'],
};

/** Proxy side: the `supported_encodings` of our HandshakeRequest. */
export function offeredEncodings(setting: EncodingSetting): Encoding[] {
  return [...OFFERS[setting]];
}

/**
 * Proxy side: the encoding to switch to given the agent's answer (absent means JSON).
 * Throws ZAP_HANDSHAKE_FAILED when the answer is not one we offered.
 */
export function acceptAgentEncoding(setting: EncodingSetting, answered: Encoding | undefined): Encoding {
  const chosen: Encoding = answered ?? 'json';
  if (setting === 'msgpack') {
    if (chosen !== 'msgpack') throw zapError(ErrorCode.HandshakeFailed, 'agent did not accept msgpack');
    return chosen;
  }
  if (setting === 'json' && chosen !== 'json') {
    throw zapError(ErrorCode.HandshakeFailed, `agent chose encoding '${chosen}', which was not offered (offered: json)`);
  }
  return chosen;
}

/**
 * Agent side: the encoding to answer with, given the proxy's `supported_encodings` (absent or []
 * means JSON only), or a refusal carrying the error text for the HandshakeResponse.
 */
export function chooseAgentEncoding(setting: EncodingSetting, offered: Encoding[] | undefined): Encoding | { refuse: string } {
  const list: readonly Encoding[] = offered === undefined || offered.length === 0 ? ['json'] : offered;
  switch (setting) {
    case 'json':
      return 'json';
    case 'prefer-msgpack':
      // The proxy's order decides: its first known entry wins.
      for (const e of list) if (e === 'json' || e === 'msgpack') return e;
      return 'json';
    case 'msgpack':
      return list.includes('msgpack') ? 'msgpack' : { refuse: 'msgpack required but not offered' };
  }
}
