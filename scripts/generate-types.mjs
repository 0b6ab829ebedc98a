#!/usr/bin/env node
// Generates sdk/generated/openapi.ts from openapi.yaml with openapi-typescript.
//   node scripts/generate-types.mjs          write the file (npm run generate:types)
//   node scripts/generate-types.mjs --check  regenerate in memory and fail if the committed
//                                            file differs (npm run check:types)
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const spec = resolve(root, 'openapi.yaml');
const target = resolve(root, 'sdk/generated/openapi.ts');

const HEADER = `/**
 * GENERATED from openapi.yaml by scripts/generate-types.mjs (openapi-typescript). Do not edit:
 * change openapi.yaml and run \`npm run generate:types\`; \`npm run check:types\` verifies it.
 */
/* eslint-disable */
`;

// defaultNonNullable false: a documented default must not make an optional request field required.
const ast = await openapiTS(new URL(`file://${spec}`), { defaultNonNullable: false, alphabetize: false });
const generated = HEADER + astToString(ast);

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = await readFile(target, 'utf8');
  } catch {
    // missing file: reported as out of date below
  }
  if (current !== generated) {
    process.stderr.write('sdk/generated/openapi.ts is out of date with openapi.yaml: run `npm run generate:types`.\n');
    process.exit(1);
  }
  process.stdout.write('sdk/generated/openapi.ts is up to date.\n');
} else {
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, generated);
  process.stdout.write(`wrote ${target}\n`);
}
