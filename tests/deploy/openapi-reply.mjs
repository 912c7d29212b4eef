// SPDX-License-Identifier: Apache-2.0
// Checks one real HTTP reply against docs/openapi.yaml: the status must be documented for
// the operation, the Content-Type must be one it lists, and a JSON body must match the
// schema (ajv; OpenAPI 3.0 `nullable` understood, unknown keywords such as `example`
// ignored). Used by tests/integration/test_openapi_replies.sh.
// usage: node openapi-reply.mjs SPEC METHOD PATH STATUS CONTENT_TYPE BODY_FILE
import fs from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv from 'ajv';

const [spec, method, path, status, ctypeRaw, bodyFile] = process.argv.slice(2);
const fail = (msg) => { console.log(`FAIL ${method} ${path} ${status}: ${msg}`); process.exit(1); };
const api = await SwaggerParser.dereference(spec);
const op = api.paths[path]?.[method.toLowerCase()];
if (!op) fail('operation not in the OpenAPI file');
const resp = op.responses[status];
if (!resp) fail(`status not documented (documented: ${Object.keys(op.responses).join(', ')})`);
const ctype = (ctypeRaw || '').split(';')[0].trim().toLowerCase();
const media = resp.content?.[ctype];
if (!media) fail(`Content-Type '${ctype}' not documented (documented: ${Object.keys(resp.content || {}).join(', ')})`);
const body = fs.readFileSync(bodyFile, 'utf8');
if (ctype !== 'application/json') {
  if (media.schema?.type === 'string' && typeof body === 'string') {
    console.log(`ok   ${method} ${path} ${status} ${ctype}`);
    process.exit(0);
  }
  fail('non-JSON body for a non-string schema');
}
let data;
try { data = JSON.parse(body); } catch (e) { fail(`body is not JSON: ${e.message}`); }
const ajv = new Ajv({ strict: false, allErrors: true });
const validate = ajv.compile(media.schema);
if (!validate(data)) {
  fail(validate.errors.slice(0, 5).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; '));
}
console.log(`ok   ${method} ${path} ${status} ${ctype}`);
