import fc from 'fast-check';
import {
  type GraphQLCompositeType,
  type GraphQLField,
  getNamedType,
  isCompositeType,
  isInterfaceType,
  isLeafType,
  isNonNullType,
  isUnionType,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../src/app.js';
import { generateArchive } from '../src/fixtures/generate.js';
import { seedSample } from '../src/fixtures/seed.js';
import { schema } from '../src/graphql/schema.js';
import { LIMITS } from '../src/http/pipeline/limits.js';
import { type TestDb, createTestDb } from './helpers/db.js';
import { costOf, gql } from './helpers/http.js';
import { graphql } from './graphql.js';

// Property: for every operation the server accepts, the nodes it returns are
// at most the nodes the cost analysis said it could return
// (extensions.cost.actual ≤ extensions.cost.requested). Documents are random
// over the real schema: fragments (spread once or twice), inline fragments,
// aliases, variables with and without defaults (sent or not, or null),
// nested connections with first/last within the limits, lists by ids,
// introspection, over the sample edition and generated ones. (Plain lists are
// costed at what the data holds, at least their usual sizes: list-bounds.ts;
// tests/list-bounds.test.ts covers archives beyond those sizes.)

let tdb: TestDb;
let app: App;
let ids: { papers: string[]; issues: string[]; categories: string[] };

beforeAll(async () => {
  tdb = await createTestDb();
  await seedSample(tdb.db);
  await generateArchive(tdb.db, { editions: 6, papersPerIssue: 30, firstWeek: '2025-06-02', categories: 8 });
  app = createApp({
    db: tdb.db,
    limits: { rateLimit: { points: 1_000_000_000, durationSec: 3600, maxInFlight: 1000 }, trustProxy: false },
  });
  const r = await gql(
    app,
    graphql(`{ papers(first: 100) { nodes { id } } issues(first: 100) { nodes { id } } categories { id } }`),
  );
  const d = r.body.data!;
  ids = {
    papers: d.papers.nodes.map((n) => n.id),
    issues: d.issues.nodes.map((n) => n.id),
    categories: d.categories.map((n) => n.id),
  };
});
afterAll(async () => {
  await tdb?.destroy();
});

/** Choices read from a list of numbers fast-check generates (and shrinks towards zeros: simpler documents). */
class Choices {
  private i = 0;
  constructor(private readonly values: readonly number[]) {}
  /** An integer in [0, n). */
  int(n: number): number {
    const v = this.values[this.i++] ?? 0;
    return n <= 1 ? 0 : v % n;
  }
  /** True with this chance (false once the choices run out: the simpler document). */
  chance(percent: number): boolean {
    return this.int(100) >= 100 - percent;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

const PAGE_SIZES = [1, 2, 3, 5, 10, 20, 40, 100];
const MAX_NESTING = 7;
const MAX_ALIASES = 10;

/** Fields skipped: they need an editor, or arguments not generated here. */
const SKIPPED = new Set(['Issue.importWarnings', 'Query.paperByIdentifier']);

interface Doc {
  fragments: string[];
  variables: string[];
  values: Record<string, unknown>;
  aliases: number;
  names: number;
}

function generate(c: Choices): { query: string; variables: Record<string, unknown> } {
  const doc: Doc = { fragments: [], variables: [], values: {}, aliases: 0, names: 0 };
  const query = schema.getQueryType()!;
  const roots = 1 + c.int(3);
  const parts: string[] = [];
  const used = new Set<string>();
  for (let i = 0; i < roots; i++) parts.push(field(c, doc, query, pickField(c, query), 1, used) ?? '__typename');
  const defs = doc.variables.length > 0 ? `(${doc.variables.join(', ')})` : '';
  return { query: `query Q${defs} { ${parts.join(' ')} } ${doc.fragments.join(' ')}`, variables: doc.values };
}

function fieldsOf(type: GraphQLCompositeType): Field[] {
  if (isUnionType(type)) return [];
  return Object.values(type.getFields()).filter((f) => !SKIPPED.has(`${type.name}.${f.name}`));
}

type Field = GraphQLField<unknown, unknown>;
/** A field to select, or introspection (`__schema`/`__type`, not among Query's fields). */
type Choice = Field | 'introspection';

function pickField(c: Choices, type: GraphQLCompositeType): Choice {
  const all = fieldsOf(type);
  const composite = all.filter((f) => isCompositeType(getNamedType(f.type)));
  if (type === schema.getQueryType() && c.chance(6)) return 'introspection';
  return composite.length > 0 && c.chance(70) ? c.pick(composite) : c.pick(all);
}

/**
 * A variable for an argument: literal, or a variable with or without a default, sent or not, or null.
 * `required`: the argument is non-null (its variables without a default are then of that type, and sent).
 */
function argument(
  c: Choices,
  doc: Doc,
  type: string,
  value: () => unknown,
  literal: (v: unknown) => string,
  required?: string,
): string {
  const mode = c.int(7);
  if (mode === 0) return literal(value());
  const name = `v${doc.variables.length + 1}`;
  const given = value();
  switch (mode) {
    case 1: // default, not sent
      doc.variables.push(`$${name}: ${type} = ${literal(given)}`);
      break;
    case 2: // default, another value sent
      doc.variables.push(`$${name}: ${type} = ${literal(value())}`);
      doc.values[name] = given;
      break;
    case 3: // no default, sent
      doc.variables.push(`$${name}: ${required ?? type}`);
      doc.values[name] = given;
      break;
    case 4: // no default, not sent
      doc.variables.push(`$${name}: ${required ?? type}`);
      if (required) doc.values[name] = given;
      break;
    case 5: // default, null sent
      doc.variables.push(`$${name}: ${type} = ${literal(given)}`);
      doc.values[name] = null;
      break;
    default: // literal again
      return literal(given);
  }
  return `$${name}`;
}

function args(c: Choices, doc: Doc, parent: GraphQLCompositeType, f: Field): string {
  const key = `${parent.name}.${f.name}`;
  const out: string[] = [];
  const json = (v: unknown) => JSON.stringify(v);
  const int = (v: unknown) => String(v);
  switch (key) {
    case 'Query.issue':
      out.push('slug: "2025-05-05"');
      break;
    case 'Query.category':
      out.push(`slug: ${c.pick(['"llm-reasoning"', '"ai-agents"', '"llm-evaluation"'])}`);
      break;
    case 'Query.paper':
      out.push(`issue: "2025-05-05", number: ${c.pick(['"1.1"', '"2.1"', '"4.3"'])}`);
      break;
    case 'Query.node':
      out.push(
        `id: ${json(c.pick([...ids.papers.slice(0, 5), ...ids.issues.slice(0, 3), ...ids.categories.slice(0, 3)]))}`,
      );
      break;
    case 'Query.nodes': {
      const pool = [...ids.papers, ...ids.issues, ...ids.categories];
      const list = () => Array.from({ length: 1 + c.int(12) }, () => c.pick(pool));
      out.push(`ids: ${argument(c, doc, '[ID!]', list, (v) => `[${(v as string[]).map(json).join(', ')}]`, '[ID!]!')}`);
      break;
    }
    case 'Query.searchPapers':
      out.push(`query: ${c.pick(['"model"', '"reasoning"', '"reward model"'])}`);
      if (c.chance(70)) out.push(`first: ${argument(c, doc, 'Int', () => c.pick(PAGE_SIZES), int)}`);
      break;
    case 'Paper.related':
      if (c.chance(60)) out.push(`first: ${argument(c, doc, 'Int', () => 1 + c.int(50), int)}`);
      break;
    default:
      if (f.args.some((a) => a.name === 'first') && f.args.some((a) => a.name === 'last')) {
        const which = c.int(3);
        if (which > 0)
          out.push(`${which === 1 ? 'first' : 'last'}: ${argument(c, doc, 'Int', () => c.pick(PAGE_SIZES), int)}`);
      }
  }
  return out.length > 0 ? `(${out.join(', ')})` : '';
}

function aliasOf(c: Choices, doc: Doc, force = false): string | null {
  if (doc.aliases >= MAX_ALIASES) return force ? null : '';
  if (!force && !c.chance(20)) return '';
  doc.aliases++;
  return `a${doc.aliases}: `;
}

/** A field, aliased when its name is already `used` in its selection set (null when no alias is left). */
function field(
  c: Choices,
  doc: Doc,
  parent: GraphQLCompositeType,
  f: Choice,
  depth: number,
  used = new Set<string>(),
): string | null {
  if (f === 'introspection') return introspection(c, doc);
  const named = getNamedType(f.type);
  const alias = aliasOf(c, doc, used.has(f.name));
  if (alias === null) return null;
  if (!alias) used.add(f.name);
  const head = `${alias}${f.name}${args(c, doc, parent, f)}`;
  if (isLeafType(named)) return head;
  return `${head} { ${selection(c, doc, named as GraphQLCompositeType, depth + 1)} }`;
}

/** A selection set on `type`: a few fields, some through fragments. */
function selection(c: Choices, doc: Doc, type: GraphQLCompositeType, depth: number): string {
  if (isInterfaceType(type) || isUnionType(type)) {
    const parts = ['__typename'];
    if (isInterfaceType(type)) parts.push('id');
    for (const t of schema.getPossibleTypes(type)) {
      if (c.chance(60)) parts.push(`... on ${t.name} { ${selection(c, doc, t, depth)} }`);
    }
    return parts.join(' ');
  }
  const all = fieldsOf(type);
  const leaves = all.filter((f) => isLeafType(getNamedType(f.type)) && !f.args.some((a) => isNonNullType(a.type)));
  const aliasesBefore = doc.aliases;
  const first = leaves.length > 0 ? c.pick(leaves).name : '__typename';
  const used = new Set([first]);
  const parts: string[] = [first];
  const n = depth >= MAX_NESTING ? 0 : 1 + c.int(3);
  for (let i = 0; i < n; i++) {
    const f = pickField(c, type);
    if (f === 'introspection' || (depth + 1 >= MAX_NESTING && isCompositeType(getNamedType(f.type)))) continue;
    const text = field(c, doc, type, f, depth, used);
    if (text) parts.push(text);
  }
  const body = parts.join(' ');
  // wrapped: a named fragment (spread once or twice), an inline fragment, or as is
  switch (c.int(5)) {
    case 0: {
      const name = `F${++doc.names}`;
      doc.fragments.push(`fragment ${name} on ${type.name} { ${body} }`);
      // spread twice only without aliases inside (each spread counts its aliases again: over the limit soon)
      return doc.aliases > aliasesBefore || c.chance(50) ? `...${name}` : `...${name} ...${name}`;
    }
    case 1:
      return `... on ${type.name} { ${body} }`;
    case 2:
      return `__typename ... { ${body} }`;
    default:
      return body;
  }
}

function introspection(c: Choices, doc: Doc): string {
  const typeRef = 'kind name ofType { kind name ofType { kind name } }';
  const shapes = [
    `__schema { queryType { name } types { name kind } }`,
    `__schema { types { name fields { name type { ${typeRef} } } } }`,
    `__schema { directives { name args { name type { ${typeRef} } } } }`,
    `__type(name: ${JSON.stringify(c.pick(['Paper', 'Issue', 'Query', 'PaperFilter', 'Node', 'SearchOrder']))}) { name fields { name args { name } type { ${typeRef} } } inputFields { name } enumValues { name } possibleTypes { name } interfaces { name } }`,
  ];
  const shape = c.pick(shapes);
  if (!c.chance(40)) return `${aliasOf(c, doc) ?? ''}${shape}`;
  // through a fragment on Query, spread once or twice
  const name = `F${++doc.names}`;
  doc.fragments.push(`fragment ${name} on Query { ${aliasOf(c, doc) ?? ''}${shape} }`);
  return c.chance(50) ? `...${name}` : `...${name} ...${name}`;
}

describe('cost property: actual ≤ requested', () => {
  it('holds for random documents over the schema (fragments, aliases, variables, nested pages, introspection)', async () => {
    let accepted = 0;
    let total = 0;
    let largest = 0;
    const refused = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat({ max: 1_000_000 }), { minLength: 50, maxLength: 600 }), async (values) => {
        const { query, variables } = generate(new Choices(values));
        // A random document: its shape is not known to the types, only its cost and errors are read.
        const r = await gql<unknown>(app, query, variables);
        total++;
        const show = `${query}\n${JSON.stringify(variables)}\n${JSON.stringify(r.body).slice(0, 500)}`;
        expect(r.status, show).toBeLessThan(500);
        const cost = costOf(r.body);
        if (cost?.actual === undefined) {
          // refused: by a document limit or the cost limit, never anything unexpected
          const code = r.body.errors?.[0]?.extensions?.code;
          expect(
            ['QUERY_TOO_COSTLY', 'QUERY_TOO_LARGE', 'GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED'],
            show,
          ).toContain(code);
          if (code === 'QUERY_TOO_COSTLY') expect(cost?.requested, show).toBeGreaterThan(LIMITS.maxCost);
          refused.set(String(code), (refused.get(String(code)) ?? 0) + 1);
          return;
        }
        accepted++;
        largest = Math.max(largest, cost.actual);
        for (const e of r.body.errors ?? []) expect(e.extensions?.code, show).not.toBe('INTERNAL_SERVER_ERROR');
        expect(cost.actual, show).toBeLessThanOrEqual(cost.requested);
        expect(cost.requested, show).toBeLessThanOrEqual(LIMITS.maxCost);
      }),
      // 60 random documents per run (about 7 s); each CI run draws new ones. COST_PROPERTY_RUNS asks for more.
      { numRuns: Number(process.env.COST_PROPERTY_RUNS ?? 60) },
    );
    // the documents are mostly valid and accepted, and some return a good many nodes
    expect(accepted, JSON.stringify([...refused])).toBeGreaterThan(total * 0.6);
    expect(largest).toBeGreaterThan(100);
  }, 120_000);
});
