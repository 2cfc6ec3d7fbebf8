// Test tooling: an S3-compatible server (s3rver) on loopback for the store tests.
// usage: node s3rver.mjs DIR [BUCKET]  — serves DIR's files as BUCKET/<basename DIR>/...
// (BUCKET default "data"), prints "PORT <n>" once listening, stops when stdin closes.
// The bucket is private: every request must carry a valid SigV4 signature by the key
// pair S3RVER / S3RVER. s3rver checks only the key id, so the signature is verified here,
// in front of it, the way S3 does (403 SignatureDoesNotMatch / AccessDenied).
import S3rver from 's3rver';
import S3Object from 's3rver/lib/models/object.js';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

const [dir = '', bucket = 'data'] = process.argv.slice(2);
const SECRET = { S3RVER: 'S3RVER' };
const storage = fs.mkdtempSync(path.join(os.tmpdir(), 's3rver-'));
const s3 = new S3rver({ silent: true, directory: storage, configureBuckets: [{ name: bucket }] });
await s3.configureBuckets();

function* walk(root, rel = '') {
  for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) yield* walk(root, r);
    else yield r;
  }
}
if (dir) {
  for (const rel of walk(dir)) {
    const data = fs.readFileSync(path.join(dir, rel));
    await s3.store.putObject(new S3Object(bucket, `${path.basename(dir)}/${rel}`, data, { 'content-type': 'application/octet-stream' }));
  }
}

const sha256 = (s) => crypto.createHash('sha256').update(s).digest('hex');
const hmac = (k, s) => crypto.createHmac('sha256', k).update(s).digest();

// Why `req` is not validly signed, or null.
function signatureProblem(req) {
  const auth = req.headers.authorization || '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return ['AccessDenied', 'Anonymous access to this bucket is not allowed'];
  const [, keyId, date, region, signed, signature] = m;
  if (!(keyId in SECRET)) return ['InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.'];
  const amzDate = req.headers['x-amz-date'] || '';
  const [pathPart, query = ''] = req.url.split('?');
  const canonicalQuery = query ? query.split('&').sort().join('&') : '';
  const headers = signed.split(';').map((h) => `${h}:${String(req.headers[h] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const canonical = [req.method, pathPart, canonicalQuery, headers, signed, req.headers['x-amz-content-sha256'] || ''].join('\n');
  const scope = `${date}/${region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  let key = hmac(`AWS4${SECRET[keyId]}`, date);
  for (const part of [region, 's3', 'aws4_request']) key = hmac(key, part);
  const expected = crypto.createHmac('sha256', key).update(toSign).digest('hex');
  if (expected !== signature) return ['SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.'];
  return null;
}

const app = s3.callback();
const server = http.createServer((req, res) => {
  const problem = signatureProblem(req);
  if (problem) {
    res.writeHead(403, { 'content-type': 'application/xml' });
    res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${problem[0]}</Code><Message>${problem[1]}</Message></Error>`);
    return;
  }
  app(req, res);
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`PORT ${server.address().port}\n`));
const stop = () => {
  server.close();
  fs.rmSync(storage, { recursive: true, force: true });
  process.exit(0);
};
process.stdin.on('end', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
