// SPDX-License-Identifier: Apache-2.0
// Validates docs/openapi.yaml against the OpenAPI 3.0 specification (schema and semantic
// checks: $refs resolve, operationIds unique, path parameters declared).
// usage: node openapi-validate.mjs docs/openapi.yaml
import SwaggerParser from '@apidevtools/swagger-parser';

const file = process.argv[2];
try {
  const api = await SwaggerParser.validate(file);
  const ops = Object.values(api.paths).flatMap((p) => Object.keys(p).filter((k) => k !== 'servers'));
  console.log(`ok   openapi: ${file} is valid OpenAPI ${api.openapi} (${Object.keys(api.paths).length} paths, ${ops.length} operations)`);
} catch (e) {
  console.log(`FAIL openapi: ${file}: ${e.message}`);
  process.exit(1);
}
