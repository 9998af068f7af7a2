import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isInputObjectType, isInterfaceType, isObjectType, isEnumType, isScalarType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { printedSchema, schema } from '../src/graphql/schema.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('schema.graphql', () => {
  it('is current: it equals the schema printed from Pothos (run `npm run schema:print`)', () => {
    const committed = readFileSync(path.join(root, 'schema.graphql'), 'utf8');
    expect(committed).toBe(printedSchema());
  });

  it('documents every public type, field, argument and enum value', () => {
    const missing: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__')) continue;
      if (isScalarType(type) && ['String', 'Int', 'Float', 'Boolean', 'ID'].includes(type.name)) continue;
      if (!type.description) missing.push(type.name);
      if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) {
          if (!field.description) missing.push(`${type.name}.${field.name}`);
          for (const arg of 'args' in field ? field.args : []) {
            if (!arg.description) missing.push(`${type.name}.${field.name}(${arg.name})`);
          }
        }
      }
      if (isEnumType(type)) {
        for (const v of type.getValues()) if (!v.description) missing.push(`${type.name}.${v.name}`);
      }
    }
    expect(missing).toEqual([]);
  });
});

describe('tests/graphql-env.d.ts', () => {
  it('is current: gql.tada generates it from schema.graphql unchanged (run `npm run test:types`)', () => {
    // The tests' documents are typed by this file: stale, they would be checked against an old schema.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'graphql-env-'));
    try {
      const out = path.join(dir, 'graphql-env.d.ts');
      execFileSync(
        path.join(root, 'node_modules', '.bin', 'gql.tada'),
        ['generate-output', '-c', 'tests/tsconfig.graphql.json', '-o', out],
        {
          cwd: root,
          stdio: 'pipe',
        },
      );
      const committed = readFileSync(path.join(root, 'tests', 'graphql-env.d.ts'), 'utf8');
      expect(readFileSync(out, 'utf8') === committed, 'stale: run npm run test:types').toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('migrations', () => {
  it('agree with the Drizzle schema: drizzle-kit generates nothing new', () => {
    // drizzle-kit wants a path relative to the project, so the copy lives inside it (gitignored).
    const dir = mkdtempSync(path.join(root, '.migrations-check-'));
    try {
      cpSync(path.join(root, 'migrations'), dir, { recursive: true });
      const before = readdirSync(dir).sort();
      const out = execFileSync(
        path.join(root, 'node_modules', '.bin', 'drizzle-kit'),
        ['generate', '--dialect', 'postgresql', '--schema', 'src/db/schema.ts', '--out', path.relative(root, dir)],
        { cwd: root, stdio: 'pipe', encoding: 'utf8' },
      );
      expect(out).toContain('No schema changes');
      expect(readdirSync(dir).sort()).toEqual(before);
      expect(readdirSync(path.join(dir, 'meta')).sort()).toEqual(
        readdirSync(path.join(root, 'migrations', 'meta')).sort(),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
