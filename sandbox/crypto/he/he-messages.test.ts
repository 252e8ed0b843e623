import { describe, expect, it } from 'vitest';
import { decodeHeMessage, encodeHeMessage, HE_RESULT, HE_ROWS, HE_SETUP, type HeRowsMessage, type HeSetupMessage } from './he-messages.ts';

const session = { jobId: 'job-1', sessionId: '0123456789abcdef0123456789abcdef' };
const setup: HeSetupMessage = {
  kind: HE_SETUP, ...session,
  params: { scheme: 'bfv', polyModulusDegree: 8192, coeffModulusBits: [60, 60, 60, 38], plainModulusBits: 45, plainModulus: '35184371613697', securityBits: 128 },
  shape: { groups: 8, positions: 1000, maxRows: 1024, maxValue: 100 },
  publicKey: Uint8Array.from([1, 2, 3, 4, 5]),
};
const rows: HeRowsMessage = { kind: HE_ROWS, ...session, firstCiphertext: 7, ciphertexts: [Uint8Array.from([9, 9]), new Uint8Array(0), Uint8Array.from([1, 2, 3])] };

describe('HE protocol frames', () => {
  it('round-trip every kind', () => {
    expect(decodeHeMessage(encodeHeMessage(setup))).toEqual(setup);
    expect(decodeHeMessage(encodeHeMessage(rows))).toEqual(rows);
    const result = { kind: HE_RESULT, ...session, statisticalSecurityBits: 40, floodBits: 126, ciphertext: Uint8Array.from([7, 7, 7]) } as const;
    expect(decodeHeMessage(encodeHeMessage(result))).toEqual(result);
  });

  it('refuse a frame that is not ours, truncated, with trailing bytes or with a bad header (LAB-E114)', () => {
    const good = encodeHeMessage(rows);
    const bad = (b: Uint8Array) => expect(() => decodeHeMessage(b)).toThrow(expect.objectContaining({ code: 'LAB-E114' }));
    const magic = good.slice(); magic[0] = 0;
    bad(magic);
    bad(good.subarray(0, good.length - 1));
    bad(Uint8Array.from([...good, 0]));
    bad(good.subarray(0, 6));
    const header = JSON.stringify({ kind: HE_ROWS, ...session, firstCiphertext: -1, blobs: [] });
    const frame = new Uint8Array(8 + header.length);
    frame.set([0x4c, 0x48, 0x45, 0x01]);
    new DataView(frame.buffer).setUint32(4, header.length, true);
    frame.set(Buffer.from(header), 8);
    bad(frame);
  });

  it('a setup message carries exactly one key and nothing else; unknown header fields are refused', () => {
    const header = JSON.stringify({ kind: HE_SETUP, ...session, params: setup.params, shape: setup.shape, blobs: [2, 2] });
    const frame = new Uint8Array(8 + header.length + 4);
    frame.set([0x4c, 0x48, 0x45, 0x01]);
    new DataView(frame.buffer).setUint32(4, header.length, true);
    frame.set(Buffer.from(header), 8);
    expect(() => decodeHeMessage(frame)).toThrow(expect.objectContaining({ code: 'LAB-E114' }));
    const extra = JSON.stringify({ kind: HE_SETUP, ...session, params: setup.params, shape: setup.shape, secretKey: 'x', blobs: [1] });
    const f2 = new Uint8Array(8 + extra.length + 1);
    f2.set([0x4c, 0x48, 0x45, 0x01]);
    new DataView(f2.buffer).setUint32(4, extra.length, true);
    f2.set(Buffer.from(extra), 8);
    expect(() => decodeHeMessage(f2)).toThrow(expect.objectContaining({ code: 'LAB-E114' }));
  });
});
