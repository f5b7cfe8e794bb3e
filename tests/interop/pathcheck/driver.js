// Drives PathCheck's @pathcheck/dcc-sdk for tests/interop: reads a JSON array of requests on
// stdin, answers with a JSON array on stdout. Keys are injected (addCachedCerts), and the SDK's
// only network access (cross-fetch, used to download a trust registry for unknown kids) is
// replaced before the SDK loads, so nothing leaves the machine.
//
//   {"op": "verify", "hc1": "HC1:...", "kid": "<base64>", "cert": "<base64 DER>"}
//     -> {"status": "verified" | "invalid_signature" | ..., "claims": {...} | null, "payload": {...} | null}
//   {"op": "sign", "payload": {...}, "cert_pem": "...", "key_p8": "...", "iss": "VN", "months": 12}
//     -> {"hc1": "HC1:..."}
'use strict';

const fs = require('fs');
const Module = require('module');

const fetchPath = require.resolve('cross-fetch');
const blocked = () => Promise.reject(new Error('network disabled by the vaxcert interop tests'));
const stub = new Module(fetchPath);
stub.exports = blocked;
stub.exports.default = blocked;
stub.loaded = true;
require.cache[fetchPath] = stub;

// The SDK logs to the console on failures: keep stdout for the answers.
for (const name of ['log', 'info', 'warn', 'debug']) {
  console[name] = (...args) => process.stderr.write(args.map(String).join(' ') + '\n');
}

// The SDK loads itself through the `esm` package, whose 2019 parser cannot read the optional
// chaining of current @peculiar/webcrypto: load the WebCrypto shim with Node's own loader first
// (the module cache then serves it to the SDK unchanged).
require('isomorphic-webcrypto');
const sdk = require('@pathcheck/dcc-sdk');

function plain(value) {  // CBOR maps (Map objects) to JSON objects, byte strings to base64
  if (value instanceof Map) {
    const out = {};
    for (const [k, v] of value.entries()) out[String(k)] = plain(v);
    return out;
  }
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = plain(v);
    return out;
  }
  return value;
}

async function handle(req) {
  if (req.op === 'verify') {
    const certs = {};
    certs[req.kid] = req.cert;
    sdk.addCachedCerts(certs);
    const result = await sdk.unpackAndVerify(req.hc1);
    const contents = result.contents instanceof Map ? result.contents : null;
    const hcert = contents && contents.get(-260) instanceof Map ? contents.get(-260).get(1) : null;
    return {
      status: result.status,
      claims: contents ? { iss: contents.get(1) ?? null, exp: contents.get(4) ?? null, iat: contents.get(6) ?? null } : null,
      payload: hcert ? plain(hcert) : null,
    };
  }
  if (req.op === 'sign') {
    const cwt = await sdk.makeCWT(req.payload, req.months, req.iss);
    return { hc1: await sdk.signAndPack(cwt, req.cert_pem, req.key_p8) };
  }
  throw new Error('unknown op ' + req.op);
}

async function main() {
  const requests = JSON.parse(fs.readFileSync(0, 'utf8'));
  const answers = [];
  for (const req of requests) {
    try {
      answers.push(await handle(req));
    } catch (err) {
      answers.push({ error: String(err && err.message ? err.message : err) });
    }
  }
  process.stdout.write(JSON.stringify(answers));
}

main().catch((err) => { process.stderr.write(String(err) + '\n'); process.exit(1); });
