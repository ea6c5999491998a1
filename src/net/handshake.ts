/**
 * Mutual authentication of the two ends of one WebRTC connection by their node keys.
 *
 * Both ends send HELLO(public key, fresh 32-byte nonce), then AUTH(signature) where each signs
 *
 *   sha256("confide/mesh/handshake/v1" | room | role | fp_I | fp_R | nonce_I | nonce_R | pk_I | pk_R)
 *
 * with role "I" (initiator) or "R" (responder) and fp_X the DTLS certificate fingerprint of X
 * taken from the SDP its RTCPeerConnection actually uses. The fingerprints bind the signatures to
 * this DTLS session: a signaling server that swapped in its own certificates (man in the middle)
 * changes what each end sees and the signatures fail. The fresh nonces make an old AUTH useless on
 * a new connection; the role byte stops reflecting a peer's own signature back to it.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { MeshError } from './errors';

const TAG = utf8ToBytes('confide/mesh/handshake/v1');

/** The sha-256 DTLS fingerprint of an SDP, as upper-case hex pairs joined by ':' (RFC 8122). */
export function dtlsFingerprint(sdp: string): string {
  const fps = new Set<string>();
  for (const m of sdp.matchAll(/^a=fingerprint:sha-256 ([0-9A-Fa-f:]{95})\s*$/gm))
    fps.add(m[1]!.toUpperCase());
  if (fps.size !== 1)
    throw new MeshError(
      'ERR_HANDSHAKE',
      `dtlsFingerprint: SDP must carry exactly one sha-256 fingerprint, found ${fps.size}`,
    );
  return [...fps][0]!;
}

export interface TranscriptInput {
  room: string;
  initiatorFingerprint: string;
  responderFingerprint: string;
  initiatorNonce: Uint8Array;
  responderNonce: Uint8Array;
  initiatorKey: Uint8Array;
  responderKey: Uint8Array;
}

function lp(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + b.length);
  out[0] = b.length >> 8;
  out[1] = b.length & 255;
  out.set(b, 2);
  return out;
}

/** The message signed by `role`; every field is length-prefixed so no two inputs collide. */
export function handshakeMessage(t: TranscriptInput, role: 'I' | 'R'): Uint8Array {
  return sha256(
    concatBytes(
      lp(TAG),
      lp(utf8ToBytes(t.room)),
      lp(utf8ToBytes(role)),
      lp(utf8ToBytes(t.initiatorFingerprint)),
      lp(utf8ToBytes(t.responderFingerprint)),
      lp(t.initiatorNonce),
      lp(t.responderNonce),
      lp(t.initiatorKey),
      lp(t.responderKey),
    ),
  );
}
