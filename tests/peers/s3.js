// An S3-compatible server that really verifies SigV4 (@20minutes/s3rver@4.0.4, installed by
// scripts/deps.sh into .deps/peers), as a throwaway peer for the integration tests.
// Usage: [S3_ACCESS_KEY=.. S3_SECRET_KEY=..] [AWS_CREDS_LISTEN=host:port[,host:port]]
//        node tests/peers/s3.js PORT DIR BUCKET...
// The package ships no bin/, so it is started through its API. With AWS_CREDS_LISTEN the
// same process also serves the local STS / container-credentials / IMDS stand-in of
// aws-creds.js on those addresses, and every S3 request signed with a key it issued is
// checked first (session token present, signed, not expired) before s3rver verifies SigV4.
const path = require('node:path');
const fs = require('node:fs');

const deps = process.env.PEERS_DEPS || path.join(__dirname, '..', '..', '.deps', 'peers');
const base = path.join(deps, 'node_modules', '@20minutes', 's3rver');
const S3rver = require(base);
const { DUMMY_ACCOUNT } = require(path.join(base, 'lib', 'models', 'account'));
const { CredentialServer } = require(path.join(__dirname, 'aws-creds.js'));

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
const creds = process.env.AWS_CREDS_LISTEN ? new CredentialServer(DUMMY_ACCOUNT) : null;
if (creds) {
    // s3rver (a Koa app) serves this.callback(): put the temporary-key check in front of it.
    const koaCallback = server.callback.bind(server);
    server.callback = () => {
        const handle = koaCallback();
        return (req, res) => {
            if (creds.checkS3Request(req, res)) handle(req, res);
        };
    };
}
Promise.all([server.run(), creds ? creds.listen(process.env.AWS_CREDS_LISTEN) : null]).then(([{ address, port }]) =>
    console.log(`s3 listening http://${address}:${port}${creds ? `, credentials on ${process.env.AWS_CREDS_LISTEN}` : ''}`));
const stop = () => server.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
