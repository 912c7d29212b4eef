// SPDX-License-Identifier: Apache-2.0
// Throughput of the reference npm parser (transaction-sms-parser) on the same
// generated corpus as bench_extract, in-process and single-threaded, so both
// rates appear side by side in `make bench`. Reads JSONL {"sender","body"}.
//
//   node bench/npm-parser.mjs CORPUS.jsonl [SECONDS]
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const [corpusPath, secondsArg] = process.argv.slice(2);
if (!corpusPath) {
  console.error('usage: node npm-parser.mjs CORPUS.jsonl [SECONDS]');
  process.exit(2);
}
const depDir = process.env.NPM_PARSER_DIR;
const require = createRequire(path.join(depDir, 'package.json'));
const entry = require.resolve('transaction-sms-parser');
const lib = await import(pathToFileURL(path.join(path.dirname(entry), 'lib.js')).href);
const { getTransactionInfo } = lib;

const bodies = readFileSync(corpusPath, 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l).body);
const budget = Number(secondsArg || 2) * 1000;

let sink = 0;
for (const b of bodies) sink += getTransactionInfo(b).transaction.amount ? 1 : 0; // warm-up
sink = 0;
let done = 0;
const t0 = performance.now();
const c0 = process.cpuUsage();
let t1;
do {
  for (const b of bodies) {
    const info = getTransactionInfo(b);
    if (info.transaction.amount) sink++;
  }
  done += bodies.length;
  t1 = performance.now();
} while (t1 - t0 < budget);
const cpu = process.cpuUsage(c0);
const cpuSec = (cpu.user + cpu.system) / 1e6;
console.log(`npm transaction-sms-parser@3.3.0 on ${bodies.length} generated bodies: ${done} msgs`);
console.log(`  one core, CPU time : ${Math.round(done / cpuSec).toString().padStart(10)} messages/s`);
console.log(
  `  wall clock         : ${Math.round(done / ((t1 - t0) / 1000)).toString().padStart(10)} messages/s` +
    `  (${(sink / done * 100).toFixed(1)}% with an amount)`,
);
