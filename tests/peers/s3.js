// An S3-compatible server that really verifies SigV4 (@20minutes/s3rver@4.0.4, installed by
// scripts/deps.sh into .deps/peers), as a throwaway peer for the integration tests.
// Usage: [S3_ACCESS_KEY=.. S3_SECRET_KEY=..] node tests/peers/s3.js PORT DIR BUCKET...
// The package ships no bin/, so it is started through its API.
const path = require('node:path');
const fs = require('node:fs');

const deps = process.env.PEERS_DEPS || path.join(__dirname, '..', '..', '.deps', 'peers');
const base = path.join(deps, 'node_modules', '@20minutes', 's3rver');
const S3rver = require(base);
const { DUMMY_ACCOUNT } = require(path.join(base, 'lib', 'models', 'account'));

if (process.env.S3_ACCESS_KEY)
    DUMMY_ACCOUNT.createKeyPair(process.env.S3_ACCESS_KEY, process.env.S3_SECRET_KEY);
const [port, dir, ...buckets] = process.argv.slice(2);
fs.mkdirSync(dir, { recursive: true });
const server = new S3rver({
    address: '127.0.0.1',
    port: +port,
    directory: dir,
    silent: true,
    configureBuckets: buckets.map((name) => ({ name, configs: [] })),
});
server.run().then(({ address, port }) => console.log(`s3 listening http://${address}:${port}`));
const stop = () => server.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
