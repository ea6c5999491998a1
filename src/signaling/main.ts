/**
 * Runs the signaling service standalone:
 *   npx tsx src/signaling/main.ts [--port 18600] [--host 127.0.0.1] [--rooms a,b]
 * or with SIGNALING_PORT / SIGNALING_HOST / SIGNALING_ROOMS in the environment.
 * Prints one line `signaling listening on ws://HOST:PORT` when ready; stops on SIGINT/SIGTERM.
 */
import { startSignalingServer } from './server';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const portText = arg('port') ?? process.env.SIGNALING_PORT ?? '18600';
const port = Number(portText);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`signaling: --port must be an integer 0..65535, got ${JSON.stringify(portText)}`);
  process.exit(2);
}
const roomsText = arg('rooms') ?? process.env.SIGNALING_ROOMS;
const server = await startSignalingServer({
  port,
  host: arg('host') ?? process.env.SIGNALING_HOST ?? '127.0.0.1',
  ...(roomsText ? { rooms: roomsText.split(',').filter(Boolean) } : {}),
  onViolation: (code, peer) => console.error(`signaling: closed peer ${peer ?? '?'}: ${code}`),
});
console.log(`signaling listening on ${server.url}`);
const stop = () => void server.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
