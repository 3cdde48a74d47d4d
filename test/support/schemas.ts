/**
 * The JSON Schemas of the formats both sides share (python-backend/dcd_backend/*_schema.json,
 * docs/FORMATS.md), checked with Ajv, a real JSON Schema implementation, so that the TypeScript
 * writers are held to the same files the Python tests validate with `jsonschema`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';

const SCHEMA_DIR = path.resolve(__dirname, '..', '..', 'python-backend', 'dcd_backend');
const ajv = new Ajv({ allErrors: true });
const compiled = new Map<string, ValidateFunction>();

export type SchemaName = 'manifest' | 'job_record';

function validator(name: SchemaName): ValidateFunction {
  let v = compiled.get(name);
  if (!v) {
    v = ajv.compile(JSON.parse(readFileSync(path.join(SCHEMA_DIR, `${name}_schema.json`), 'utf8')) as object);
    compiled.set(name, v);
  }
  return v;
}

/** Fails with Ajv's errors (path and reason) when `value` does not match the schema. */
export function assertMatchesSchema(name: SchemaName, value: unknown, what: string = name): void {
  const v = validator(name);
  assert.ok(v(value), `${what} does not match ${name}_schema.json: ${ajv.errorsText(v.errors, { separator: '\n' })}`);
}

/** The errors `value` gets from the schema, for tests that check a refusal. */
export function schemaErrors(name: SchemaName, value: unknown): string[] {
  const v = validator(name);
  return v(value) ? [] : (v.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`.trim());
}
