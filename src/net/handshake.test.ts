import { describe, expect, it } from 'vitest';
import { dtlsFingerprint, handshakeMessage, type TranscriptInput } from './handshake';
import { randomIdentity, verifySignature } from './identity';

const FP_A = Array.from({ length: 32 }, (_, i) =>
  i.toString(16).padStart(2, '0').toUpperCase(),
).join(':');
const FP_B = Array.from({ length: 32 }, (_, i) =>
  (255 - i).toString(16).padStart(2, '0').toUpperCase(),
).join(':');

describe('mesh handshake', () => {
  it('extracts the one sha-256 DTLS fingerprint of an SDP', () => {
    const sdp = `v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\na=fingerprint:sha-256 ${FP_A.toLowerCase()}\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=fingerprint:sha-256 ${FP_A}\r\n`;
    expect(dtlsFingerprint(sdp)).toBe(FP_A);
    expect(() => dtlsFingerprint('v=0\r\n')).toThrow(/ERR_HANDSHAKE.*found 0/);
    expect(() =>
      dtlsFingerprint(`a=fingerprint:sha-256 ${FP_A}\r\na=fingerprint:sha-256 ${FP_B}\r\n`),
    ).toThrow(/found 2/);
  });

  it('signatures verify only for the same connection, role and key', () => {
    const a = randomIdentity();
    const b = randomIdentity();
    const t: TranscriptInput = {
      room: 'r',
      initiatorFingerprint: FP_A,
      responderFingerprint: FP_B,
      initiatorNonce: new Uint8Array(32).fill(1),
      responderNonce: new Uint8Array(32).fill(2),
      initiatorKey: a.publicKey,
      responderKey: b.publicKey,
    };
    const sigA = a.sign(handshakeMessage(t, 'I'));
    expect(verifySignature(sigA, handshakeMessage(t, 'I'), a.publicKey)).toBe(true);
    // reflected (wrong role), other key, other DTLS session, other nonce, other room: all fail
    expect(verifySignature(sigA, handshakeMessage(t, 'R'), a.publicKey)).toBe(false);
    expect(verifySignature(sigA, handshakeMessage(t, 'I'), b.publicKey)).toBe(false);
    expect(
      verifySignature(
        sigA,
        handshakeMessage({ ...t, responderFingerprint: FP_A }, 'I'),
        a.publicKey,
      ),
    ).toBe(false);
    expect(
      verifySignature(
        sigA,
        handshakeMessage({ ...t, responderNonce: new Uint8Array(32).fill(3) }, 'I'),
        a.publicKey,
      ),
    ).toBe(false);
    expect(verifySignature(sigA, handshakeMessage({ ...t, room: 's' }, 'I'), a.publicKey)).toBe(
      false,
    );
    expect(verifySignature(new Uint8Array(64), handshakeMessage(t, 'I'), a.publicKey)).toBe(false);
  });
});
