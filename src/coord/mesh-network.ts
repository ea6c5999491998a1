/** Adapts the mesh's coordination channel to the CoordNetwork the Yjs layer needs. */
import { COORD_CHANNEL, type Mesh } from '../net/mesh';
import type { CoordNetwork } from './coord';

export function meshCoordNetwork(mesh: Mesh): CoordNetwork {
  return {
    self: mesh.id,
    peers: () => mesh.connectedKeys(),
    send: (to, bytes) => {
      if (mesh.isUp(to)) mesh.send(to, COORD_CHANNEL, bytes);
    },
    onMessage: (h) => void mesh.listen(COORD_CHANNEL, h),
    onPeerUp: (h) =>
      void mesh.on((e) => {
        if (e.type === 'peer-up') h(e.key);
      }),
  };
}
