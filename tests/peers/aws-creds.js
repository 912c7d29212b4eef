// SPDX-License-Identifier: Apache-2.0
// A local stand-in for the three places AWS hands out temporary credentials, for the
// integration tests (no real STS or instance metadata service runs here):
//   STS      POST /  Action=AssumeRoleWithWebIdentity (RoleArn, RoleSessionName,
//            WebIdentityToken) -> XML, as sts.amazonaws.com answers;
//   container GET /v2/credentials/<id> (ECS RELATIVE_URI) and GET /pod-identity (EKS Pod
//            Identity FULL_URI), Authorization header required -> JSON;
//   IMDSv2   PUT /latest/api/token, then GET /latest/meta-data/iam/security-credentials/[role]
//            with X-aws-ec2-metadata-token (IMDSv1 requests get 401) -> JSON.
// Each issue creates a fresh key pair with a session token and an expiry LIFETIME seconds
// ahead and registers it with the S3 server of the same process (s3.js), whose request hook
// (checkS3Request) then verifies SigV4 requests made with it: the x-amz-security-token header
// must be the one issued for the key and be among the signed headers, and the key must not
// have expired (400 ExpiredToken, as S3 answers). Expired keys are revoked a minute later.
// Buckets named in S3_PRIVATE_BUCKETS refuse unsigned requests (403 AccessDenied), as a
// private AWS bucket does; s3rver alone serves anyone.
// Admin routes for the tests (loopback only): GET /_admin/oidc-token (a web identity token
// the STS will accept), POST /_admin/issue (credentials for the environment source),
// POST /_admin/config?lifetime=S&container_token=T, GET /_admin/stats.
'use strict';

const crypto = require('node:crypto');
const http = require('node:http');

const ROLE = 'sms-insights-artifacts';
const ACCOUNT_ID = '111122223333';

function randomId(prefix, bytes) {
  return prefix + crypto.randomBytes(bytes).toString('hex').toUpperCase().slice(0, bytes * 2);
}

function iso(ms) {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function xmlError(res, status, code, message) {
  res.writeHead(status, { 'content-type': 'text/xml' });
  res.end(`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>` +
    `<Code>${code}</Code><Message>${message}</Message></Error><RequestId>${crypto.randomUUID()}</RequestId></ErrorResponse>`);
}

function readBody(req, limit = 65536) {
  return new Promise((resolve, reject) => {
    let size = 0;
    const parts = [];
    req.on('data', (c) => {
      size += c.length;
      if (size > limit) reject(new Error('body too large'));
      else parts.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

class CredentialServer {
  constructor(account) {
    this.account = account; // s3rver's DUMMY_ACCOUNT: keys registered here verify SigV4
    this.lifetime = Number(process.env.AWS_CREDS_LIFETIME_S || 900);
    this.containerToken = process.env.AWS_CREDS_CONTAINER_TOKEN || '';
    this.keys = new Map(); // access key id -> { token, expires, source }
    this.oidcTokens = new Set();
    // Buckets that refuse unsigned requests (s3rver has no ACLs: everything is public).
    this.privateBuckets = new Set((process.env.S3_PRIVATE_BUCKETS || '').split(',').filter(Boolean));
    this.imdsTokens = new Map(); // token -> expiry ms
    this.stats = {
      issued: { 'web-identity': 0, container: 0, imds: 0, environment: 0 },
      refused: { sts: 0, container: 0, imds: 0 },
      s3: { temporary_ok: 0, expired: 0, bad_token: 0, unsigned_token: 0, anonymous_refused: 0 },
    };
    setInterval(() => this.sweep(), 5000).unref();
  }

  issue(source) {
    const id = randomId('ASIA', 8);
    const secret = crypto.randomBytes(30).toString('base64');
    const token = crypto.randomBytes(180).toString('base64');
    const expires = Date.now() + this.lifetime * 1000;
    this.account.createKeyPair(id, secret);
    this.keys.set(id, { token, expires, source });
    this.stats.issued[source]++;
    return { id, secret, token, expires };
  }

  sweep() {
    const now = Date.now();
    for (const [id, k] of this.keys) {
      if (now > k.expires + 60000) {
        this.account.revokeAccessKey(id);
        this.keys.delete(id);
      }
    }
  }

  // The S3 server's hook: true to let s3rver verify the signature, false when answered here.
  checkS3Request(req, res) {
    const auth = req.headers.authorization || '';
    const m = /Credential=([^/,\s]+)\/[^,]*,\s*SignedHeaders=([^,\s]+)/.exec(auth);
    const token = req.headers['x-amz-security-token'];
    const k = m && this.keys.get(m[1]);
    const bucket = decodeURIComponent((req.url || '').split('?')[0].split('/')[1] || '');
    if (!auth && this.privateBuckets.has(bucket)) {
      this.stats.s3.anonymous_refused++;
      return this.s3Error(res, 403, 'AccessDenied', 'Access Denied');
    }
    if (!k) {
      if (token === undefined) return true; // a long-lived key (or anonymous): s3rver decides
      this.stats.s3.bad_token++;
      return this.s3Error(res, 403, 'InvalidToken', 'The provided token is malformed or otherwise invalid.');
    }
    if (token !== k.token) {
      this.stats.s3.bad_token++;
      return this.s3Error(res, 403, 'InvalidToken', 'The provided token is malformed or otherwise invalid.');
    }
    if (!m[2].split(';').includes('x-amz-security-token')) {
      this.stats.s3.unsigned_token++;
      return this.s3Error(res, 403, 'AccessDenied', 'x-amz-security-token must be a signed header.');
    }
    if (Date.now() >= k.expires) {
      this.stats.s3.expired++;
      return this.s3Error(res, 400, 'ExpiredToken', 'The provided token has expired.');
    }
    this.stats.s3.temporary_ok++;
    return true;
  }

  s3Error(res, status, code, message) {
    res.writeHead(status, { 'content-type': 'application/xml' });
    res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`);
    return false;
  }

  async sts(req, res) {
    const form = new URLSearchParams(await readBody(req));
    const arn = form.get('RoleArn') || '';
    const session = form.get('RoleSessionName') || '';
    if (form.get('Action') !== 'AssumeRoleWithWebIdentity' || form.get('Version') !== '2011-06-15') {
      this.stats.refused.sts++;
      return xmlError(res, 400, 'InvalidAction', 'Could not find operation');
    }
    if (!/^arn:aws:iam::\d{12}:role\/[\w+=,.@\/-]+$/.test(arn) || !/^[\w+=,.@-]{2,64}$/.test(session)) {
      this.stats.refused.sts++;
      return xmlError(res, 400, 'ValidationError', 'RoleArn or RoleSessionName is invalid');
    }
    if (!this.oidcTokens.has(form.get('WebIdentityToken'))) {
      this.stats.refused.sts++;
      return xmlError(res, 400, 'InvalidIdentityToken', 'Couldn\'t retrieve verification key from your identity provider');
    }
    const c = this.issue('web-identity');
    res.writeHead(200, { 'content-type': 'text/xml' });
    res.end(`<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>system:serviceaccount:sms-insights:sms-insights</SubjectFromWebIdentityToken>
    <AssumedRoleUser><Arn>${arn.replace(':role/', ':assumed-role/')}/${session}</Arn><AssumedRoleId>AROATEST:${session}</AssumedRoleId></AssumedRoleUser>
    <Credentials>
      <SessionToken>${c.token}</SessionToken>
      <SecretAccessKey>${c.secret}</SecretAccessKey>
      <Expiration>${iso(c.expires)}</Expiration>
      <AccessKeyId>${c.id}</AccessKeyId>
    </Credentials>
    <Audience>sts.amazonaws.com</Audience>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>${crypto.randomUUID()}</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>\n`);
  }

  container(req, res) {
    if (!this.containerToken || req.headers.authorization !== this.containerToken) {
      this.stats.refused.container++;
      res.writeHead(401, { 'content-type': 'application/json' });
      return res.end('{"Message":"invalid authorization token"}');
    }
    const c = this.issue('container');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({
      AccessKeyId: c.id, SecretAccessKey: c.secret, Token: c.token, Expiration: iso(c.expires),
      RoleArn: `arn:aws:iam::${ACCOUNT_ID}:role/${ROLE}`, AccountId: ACCOUNT_ID,
    }));
  }

  imds(req, res, path) {
    if (req.method === 'PUT' && path === '/latest/api/token') {
      const ttl = Number(req.headers['x-aws-ec2-metadata-token-ttl-seconds']);
      if (!(ttl >= 1 && ttl <= 21600) || req.headers['x-forwarded-for']) {
        this.stats.refused.imds++;
        res.writeHead(400);
        return res.end();
      }
      const t = crypto.randomBytes(32).toString('base64');
      this.imdsTokens.set(t, Date.now() + ttl * 1000);
      res.writeHead(200, { 'content-type': 'text/plain', 'x-aws-ec2-metadata-token-ttl-seconds': String(ttl) });
      return res.end(t);
    }
    const t = req.headers['x-aws-ec2-metadata-token'];
    if (req.method !== 'GET' || !t || !(this.imdsTokens.get(t) > Date.now())) {
      this.stats.refused.imds++; // IMDSv1 (no token) is refused, as with HttpTokens=required
      res.writeHead(401);
      return res.end();
    }
    const base = '/latest/meta-data/iam/security-credentials/';
    if (path === base) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end(ROLE);
    }
    if (path !== base + ROLE) {
      res.writeHead(404);
      return res.end();
    }
    const c = this.issue('imds');
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(JSON.stringify({
      Code: 'Success', LastUpdated: iso(Date.now()), Type: 'AWS-HMAC',
      AccessKeyId: c.id, SecretAccessKey: c.secret, Token: c.token, Expiration: iso(c.expires),
    }, null, 2));
  }

  async admin(req, res, url) {
    const send = (obj) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(obj));
    };
    const addr = req.socket.remoteAddress || '';
    if (!addr.startsWith('127.') && addr !== '::1' && addr !== '::ffff:127.0.0.1') {
      res.writeHead(403);
      return res.end();
    }
    if (url.pathname === '/_admin/oidc-token') {
      const header = Buffer.from('{"alg":"RS256","kid":"test"}').toString('base64url');
      const body = Buffer.from(JSON.stringify({ sub: 'system:serviceaccount:sms-insights:sms-insights',
        aud: 'sts.amazonaws.com', jti: crypto.randomUUID() })).toString('base64url');
      const tok = `${header}.${body}.${crypto.randomBytes(64).toString('base64url')}`;
      this.oidcTokens.add(tok);
      return send({ token: tok });
    }
    if (url.pathname === '/_admin/issue' && req.method === 'POST') {
      const c = this.issue('environment');
      return send({ AccessKeyId: c.id, SecretAccessKey: c.secret, SessionToken: c.token, Expiration: iso(c.expires) });
    }
    if (url.pathname === '/_admin/config' && req.method === 'POST') {
      if (url.searchParams.has('lifetime')) this.lifetime = Number(url.searchParams.get('lifetime'));
      if (url.searchParams.has('container_token')) this.containerToken = url.searchParams.get('container_token');
      return send({ lifetime: this.lifetime });
    }
    if (url.pathname === '/_admin/stats') return send(this.stats);
    res.writeHead(404);
    res.end();
  }

  handler() {
    return (req, res) => {
      const url = new URL(req.url, 'http://x');
      const p = url.pathname;
      const done = (e) => {
        if (!res.headersSent) {
          res.writeHead(500);
          res.end(String(e && e.message));
        }
      };
      try {
        if (p.startsWith('/_admin/')) return this.admin(req, res, url).catch(done);
        if (p.startsWith('/latest/')) return this.imds(req, res, p);
        if (p.startsWith('/v2/credentials/') || p === '/pod-identity') return this.container(req, res);
        if (req.method === 'POST' && p === '/') return this.sts(req, res).catch(done);
        res.writeHead(404);
        res.end();
      } catch (e) {
        done(e);
      }
    };
  }

  // listen on "host:port[,host:port...]"; resolves when all listen.
  listen(spec) {
    return Promise.all(spec.split(',').filter(Boolean).map((hp) => {
      const i = hp.lastIndexOf(':');
      const host = hp.slice(0, i);
      const port = Number(hp.slice(i + 1));
      return new Promise((resolve, reject) => {
        const s = http.createServer(this.handler());
        s.on('error', reject);
        s.listen(port, host, () => resolve(s));
      });
    }));
  }
}

module.exports = { CredentialServer };
