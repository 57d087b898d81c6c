// Opens, seals and verifies gateway envelopes with the npm jose package, so
// that internal/envelope is checked against an implementation that shares
// no code with go-jose. Driven by internal/envelope's interop test:
//
//   node interop.mjs open   SPEC.json  -> {"jwe":{...},"jws":{...},"payload":"..."}
//   node interop.mjs seal   SPEC.json  -> the compact JWE on stdout
//   node interop.mjs verify SPEC.json  -> {"jws":{...},"payload":"..."}
//
// SPEC.json names JWK files (written by the test) and the algorithms; keys
// are imported for exactly one algorithm each, as the gateway uses them.
import { readFileSync } from 'node:fs';
import * as jose from 'jose';

const [mode, specPath] = process.argv.slice(2);
if (!mode || !specPath) {
  console.error('usage: node interop.mjs open|seal|verify SPEC.json');
  process.exit(2);
}
const spec = JSON.parse(readFileSync(specPath, 'utf8'));
const jwk = (path) => JSON.parse(readFileSync(path, 'utf8'));
const text = new TextDecoder('utf-8', { fatal: true });
const bytes = new TextEncoder();

async function open() {
  // Decrypt with the recipient's own key and only the allowed algorithms,
  // then verify the inner JWS with the sender's public key and its one
  // algorithm: the same sequence Open follows.
  const recipientKey = await jose.importJWK(jwk(spec.recipientKey), spec.keyAlg);
  const { plaintext, protectedHeader: jwe } = await jose.compactDecrypt(
    readFileSync(spec.envelope, 'utf8'), recipientKey,
    { keyManagementAlgorithms: [spec.keyAlg], contentEncryptionAlgorithms: ['A256GCM'] });
  if (jwe.cty !== 'JOSE') throw new Error('the JWE cty is not JOSE');
  const senderKey = await jose.importJWK(jwk(spec.senderKey), spec.sigAlg);
  const { payload, protectedHeader: jws } = await jose.compactVerify(
    text.decode(plaintext), senderKey, { algorithms: [spec.sigAlg] });
  return JSON.stringify({ jwe, jws, payload: text.decode(payload) });
}

async function seal() {
  // CompactSign inside CompactEncrypt, with the metadata as protected
  // header parameters of the JWS and iss/aud repeated on the JWE.
  const senderKey = await jose.importJWK(jwk(spec.senderKey), spec.sigAlg);
  const signed = await new jose.CompactSign(bytes.encode(spec.payload))
    .setProtectedHeader({ alg: spec.sigAlg, ...spec.jwsHeader })
    .sign(senderKey);
  const recipientKey = await jose.importJWK(jwk(spec.recipientKey), spec.keyAlg);
  return new jose.CompactEncrypt(bytes.encode(signed))
    .setProtectedHeader({ alg: spec.keyAlg, enc: 'A256GCM', cty: 'JOSE', ...spec.jweHeader })
    .encrypt(recipientKey);
}

async function verify() {
  const key = await jose.importJWK(jwk(spec.key), spec.sigAlg);
  const { payload, protectedHeader: jws } = await jose.compactVerify(
    readFileSync(spec.token, 'utf8'), key, { algorithms: [spec.sigAlg] });
  return JSON.stringify({ jws, payload: text.decode(payload) });
}

const modes = { open, seal, verify };
if (!modes[mode]) {
  console.error(`unknown mode ${mode}`);
  process.exit(2);
}
try {
  process.stdout.write(await modes[mode]());
} catch (err) {
  console.error(`${mode}: ${err.code ?? ''} ${err.message}`);
  process.exit(1);
}
