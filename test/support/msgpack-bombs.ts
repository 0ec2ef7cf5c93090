// The MessagePack memory bombs of issue 11: tiny payloads whose headers claim huge containers or
// strings, or nest absurdly deep. Shared by the in-process, process-level and fuzz tests.

const repeat = (bytes: number[], times: number): number[] => Array.from({ length: times }, () => bytes).flat();

/** The reported bomb: `dd 01 00 00 00` (array32 of 16 M) repeated, 205 bytes, ~128 MiB per level in msgpackr. */
export const THE_205_BYTE_BOMB: Buffer = Buffer.from(repeat([0xdd, 0x01, 0x00, 0x00, 0x00], 41));

/** Named variants: each must be a ZAP_PROTOCOL_ERROR without a large allocation. */
export function msgpackBombs(): [string, Buffer][] {
  const fixstr = (s: string): number[] => [0xa0 | s.length, ...Buffer.from(s, 'ascii')];
  return [
    ['array32 ×41', THE_205_BYTE_BOMB],
    ['map32 ×41', Buffer.from(repeat([0xdf, 0x01, 0x00, 0x00, 0x00], 41))],
    ['array16 ×100', Buffer.from(repeat([0xdc, 0xff, 0xff], 100))],
    ['str32 claiming 2 GiB', Buffer.from([0xdb, 0x7f, 0xff, 0xff, 0xff, 0x61, 0x62])],
    ['bin32 claiming 4 GiB', Buffer.from([0xc6, 0xff, 0xff, 0xff, 0xff, 0x00])],
    ['ext32 claiming 2 GiB', Buffer.from([0xc9, 0x7f, 0xff, 0xff, 0xff, 0x01, 0x00])],
    ['fixarray nested 100 000 deep', Buffer.from([...repeat([0x91], 100_000), 0x01])],
    ['fixmap nested 10 000 deep', Buffer.from([...repeat([0x81, 0x01], 10_000), 0x01])],
    // Honest counts, but past the container cap: one-byte empty maps decode to ~64-byte objects each.
    ['array32 of 300 000 empty maps', Buffer.concat([Buffer.from([0xdd, 0x00, 0x04, 0x93, 0xe0]), Buffer.alloc(300_000, 0x80)])],
    // A plausible reply whose `audit` hides the array32 bomb.
    [
      'bomb inside an AgentResponse',
      Buffer.from([
        0x83,
        ...fixstr('version'),
        0x02,
        ...fixstr('decision'),
        ...fixstr('allow'),
        ...fixstr('audit'),
        ...repeat([0xdd, 0x01, 0x00, 0x00, 0x00], 30),
      ]),
    ],
  ];
}
