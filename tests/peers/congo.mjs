// CongoDB, a MongoDB wire-protocol server (from @push.rocks/smartmongo@2.2.0, installed by
// scripts/deps.sh into .deps/peers), as a throwaway peer for the integration tests.
// Usage: PORT=27117 node tests/peers/congo.mjs   (PEERS_DEPS overrides the install dir)
// It imports the congodb module directly: smartmongo's index.js would pull in packages
// that download a real mongod, which cannot work here.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const deps = process.env.PEERS_DEPS || path.join(here, '..', '..', '.deps', 'peers');
const mod = path.join(deps, 'vendor', 'smartmongo', 'dist_ts', 'congodb', 'index.js');
const { CongoServer } = await import(pathToFileURL(mod).href);

const port = parseInt(process.env.PORT || '27117', 10);
const server = new CongoServer({ port, host: '127.0.0.1', storage: 'memory' });
await server.start();
console.log(`congodb listening ${server.getConnectionUri()}`);
const stop = async () => {
    await server.stop();
    process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
