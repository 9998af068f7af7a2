import type { PgTable } from 'drizzle-orm/pg-core';
import { getTableColumns } from '../orm.js';

/*
 * The machinery of a read model: a table's columns as the API reads them,
 * declared once (./paper.ts, ./issue.ts). Everything that restated them — the
 * SELECT lists, the JSON arrays built by PostgreSQL and their decoders, the
 * column-set keys of statement names, the lookahead's choice of columns, the
 * GraphQL fields that simply show a column — is derived from the declaration.
 */

/**
 * When a column is read. `key`: always (identity, ordering, parents: what
 * cursors and loaders go by); `lookahead`: in lists only when a selected
 * GraphQL field needs it (converting a column to JSON is most of what a page
 * costs PostgreSQL); `detail`: only by single-row reads (lists load it, batched,
 * when asked for).
 */
export type Load = 'key' | 'lookahead' | 'detail';

/** A GraphQL field that shows the column as it is (the GraphQL layer defines it from this). */
export interface ApiField {
  type: 'String' | 'Int' | 'Date' | 'DateTime' | 'URL';
  nullable?: boolean;
  description: string;
}

export interface ColumnSpec {
  load: Load;
  /** Lookahead columns read together (one bit of a column set): default the column alone. */
  group?: string;
  /** The GraphQL fields that need it: default the field of its own name. */
  fields?: readonly string[];
  /** Papers of a section: the section's field that gives it (not repeated per paper). */
  section?: string;
  api?: ApiField;
}

/** How a value travels from PostgreSQL (in a row or a JSON array) to JS, from the Drizzle column's type. */
type Encoding = 'plain' | 'date' | 'timestamp';

export interface ReadColumn {
  /** Property of the row (Drizzle's name). */
  key: string;
  /** SQL name. */
  column: string;
  encoding: Encoding;
  load: Load;
  group: string;
  fields: readonly string[];
  section: string | undefined;
  api: ApiField | undefined;
}

/** Marks a row that carries only some of its model's columns (see `decodeSlice`). */
export const SLICE = Symbol('read-model slice');

type Specs<R> = { readonly [K in keyof R]?: ColumnSpec };
type KeysWith<S, L extends Load> = { [K in keyof S]: S[K] extends { load: L } ? K : never }[keyof S];
type GroupOf<S, K extends keyof S> = S[K] extends { group: infer G extends string } ? G : K & string;

/** The columns every read carries. */
export type KeyColumns<S> = KeysWith<S, 'key'>;
export type LookaheadColumns<S> = KeysWith<S, 'lookahead'>;
export type DetailColumns<S> = KeysWith<S, 'detail'>;
/** Which lookahead groups a read carries: a bit each. */
export type ColumnSet<S> = Record<{ [K in LookaheadColumns<S>]: GroupOf<S, K> }[LookaheadColumns<S>], boolean>;
/** A row as lists read it with every column: key and lookahead columns; detail columns when read. */
export type FullRow<R, S> = Pick<R, KeyColumns<S> & keyof R> &
  Pick<R, LookaheadColumns<S> & keyof R> &
  Partial<Pick<R, DetailColumns<S> & keyof R>>;
/** A row read with some column set: the lookahead columns not read are absent (undefined). */
export type RowView<R, S> = Pick<R, KeyColumns<S> & keyof R> &
  Partial<Pick<R, (LookaheadColumns<S> | DetailColumns<S>) & keyof R>>;

/** `column` of relation `alias` as a row or a JSON array carries it. */
function valueSql(c: ReadColumn, alias: string, column = c.column): string {
  const ref = `${alias}.${column}`;
  if (c.encoding === 'date') return `${ref}::text`;
  // (date_part is float8 arithmetic; extract(epoch …) is numeric and costs PostgreSQL several times more per row.)
  if (c.encoding === 'timestamp') return `date_part('epoch', ${ref}) * 1000`;
  return ref;
}

function decodeValue(c: ReadColumn, v: unknown): unknown {
  return c.encoding === 'timestamp' && v != null ? new Date(Number(v)) : v;
}

/** The `except` of decoders that leave no column out. */
const NO_EXCEPT = (_c: ReadColumn) => false;

export class ReadModel<R, const S extends Specs<R>> {
  /** In declaration order, which is the order of the JSON arrays. */
  readonly columns: readonly ReadColumn[];
  /** Key and lookahead columns: what lists carry, in JSON-array order. */
  readonly listed: readonly ReadColumn[];
  /** Lookahead groups, in order: the bits of a column set and of its key. */
  readonly groups: readonly string[];
  /** Every group on. */
  readonly all: ColumnSet<S>;
  private readonly fieldGroups: ReadonlyArray<[field: string, group: string]>;
  private readonly lookaheadCount: number;
  /** Generated decoders by `except` and column-set key (see arrayDecoder). */
  private readonly decoders = new WeakMap<object, Map<string, unknown>>();

  constructor(
    readonly name: string,
    table: PgTable & { $inferSelect: R },
    specs: S,
  ) {
    const drizzle = getTableColumns(table) as Record<string, { name: string; columnType: string }>;
    this.columns = Object.entries(specs as Record<string, ColumnSpec>).map(([key, spec]) => {
      const d = drizzle[key];
      if (!d) throw new Error(`${name}: no column ${key} in the table`);
      const encoding: Encoding =
        d.columnType === 'PgDateString' ? 'date' : d.columnType === 'PgTimestamp' ? 'timestamp' : 'plain';
      return {
        key,
        column: d.name,
        encoding,
        load: spec.load,
        group: spec.group ?? key,
        fields: spec.fields ?? [key],
        section: spec.section,
        api: spec.api,
      };
    });
    this.listed = this.columns.filter((c) => c.load !== 'detail');
    const lookahead = this.columns.filter((c) => c.load === 'lookahead');
    this.lookaheadCount = lookahead.length;
    this.groups = [...new Set(lookahead.map((c) => c.group))];
    this.all = Object.fromEntries(this.groups.map((g) => [g, true])) as ColumnSet<S>;
    this.fieldGroups = lookahead.flatMap((c) => c.fields.map((f): [string, string] => [f, c.group]));
  }

  /** Whether a read with this column set carries the column. */
  carries(set: ColumnSet<S>, c: ReadColumn): boolean {
    return c.load === 'key' || (c.load === 'lookahead' && (set as Record<string, boolean>)[c.group] === true);
  }

  /** A column set in a statement name: a bit per group. */
  key(set: ColumnSet<S>): string {
    const on = set as Record<string, boolean>;
    return this.groups.map((g) => (on[g] ? '1' : '0')).join('');
  }

  /** The column set the selected GraphQL fields need. */
  setFor(fieldNames: ReadonlySet<string>): ColumnSet<S> {
    const set = Object.fromEntries(this.groups.map((g) => [g, false])) as Record<string, boolean>;
    for (const [field, group] of this.fieldGroups) if (fieldNames.has(field)) set[group] = true;
    return set as ColumnSet<S>;
  }

  /** The column set of these groups. */
  setOf(groups: Iterable<string>): ColumnSet<S> {
    const on = new Set(groups);
    return Object.fromEntries(this.groups.map((g) => [g, on.has(g)])) as ColumnSet<S>;
  }

  /** The GraphQL field names that some lookahead column needs. */
  fieldNames(): ReadonlySet<string> {
    return new Set(this.fieldGroups.map(([f]) => f));
  }

  /**
   * A SELECT list of rows decoded by `decodeRow` (alias `alias`): names as the
   * row's properties, dates as text, timestamps as epoch ms (`<key>Ms`), so
   * that PGlite and pg give the same JS types. Detail columns with `detail`.
   */
  rowSelect(alias: string, options: { detail?: boolean } = {}): string {
    return this.columns
      .filter((c) => c.load !== 'detail' || options.detail)
      .map((c) => {
        const name = c.encoding === 'timestamp' ? `${c.key}Ms` : c.key;
        const value = valueSql(c, alias);
        return value === `${alias}.${name}` ? value : `${value} AS "${name}"`;
      })
      .join(', ');
  }

  /**
   * A row of `rowSelect` as the model's row, in place: this runs for every
   * row of every list, so it allocates nothing but the dates (the epoch
   * columns stay on the object, unused).
   */
  decodeRow<T extends object>(raw: T): T & FullRow<R, S> {
    const row = raw as Record<string, unknown>;
    for (const c of this.columns) {
      if (c.encoding === 'timestamp' && `${c.key}Ms` in row) row[c.key] = decodeValue(c, row[`${c.key}Ms`]);
    }
    return raw as T & FullRow<R, S>;
  }

  /** The raw listed columns a read with this set takes from `alias` (for a subquery that `jsonItems` reads). */
  rawColumns(alias: string, set: ColumnSet<S>, options: { except?: (c: ReadColumn) => boolean } = {}): string[] {
    return this.listed.filter((c) => this.carries(set, c) && !options.except?.(c)).map((c) => `${alias}.${c.column}`);
  }

  /**
   * The listed columns the set carries as JSON array items (relation `alias`), in declaration order; those it
   * leaves out are not in the array (PostgreSQL 15 pays for every value of json_build_array, a NULL too; see
   * BENCHMARKS.md). `except`: columns left out as well (e.g. what a section already says).
   */
  jsonItems(alias: string, set: ColumnSet<S>, options: { except?: (c: ReadColumn) => boolean } = {}): string[] {
    return this.listed.filter((c) => this.carries(set, c) && !options.except?.(c)).map((c) => valueSql(c, alias));
  }

  /** How many items `jsonItems` gives for this set: where what a statement appends after them starts. */
  itemCount(set: ColumnSet<S>, options: { except?: (c: ReadColumn) => boolean } = {}): number {
    return this.listed.filter((c) => this.carries(set, c) && !options.except?.(c)).length;
  }

  /**
   * Decodes JSON arrays of `jsonItems`: `decoder(a)` gives the row; the columns
   * the set leaves out are undefined. `from`: the object whose properties named
   * by their `section` spec give the excepted columns (e.g. the section's row).
   */
  arrayDecoder(
    set: ColumnSet<S>,
    options: { except?: (c: ReadColumn) => boolean } = {},
  ): (a: readonly unknown[], from?: Readonly<Record<string, unknown>>) => RowView<R, S> {
    const exceptKey = options.except ?? NO_EXCEPT;
    let byKey = this.decoders.get(exceptKey);
    if (!byKey) {
      byKey = new Map();
      this.decoders.set(exceptKey, byKey);
    }
    const setKey = this.key(set);
    const cached = byKey.get(setKey);
    if (cached) return cached as (a: readonly unknown[], from?: Readonly<Record<string, unknown>>) => RowView<R, S>;
    // The decoder runs for every paper of every list: it is generated once per column set as one
    // object literal instead of a loop of keyed stores and calls per column. Every listed key is
    // in it, in declaration order (undefined when the set leaves the column out), so that rows of
    // every column set and every list share one hidden class and the resolvers reading them stay
    // monomorphic; an excepted column is read from `from` by its constant name (the `section`
    // spec). The source holds only the declaration's keys and positions, never data.
    const parts: string[] = [];
    let position = 0;
    for (const c of this.listed) {
      const key = JSON.stringify(c.key);
      if (options.except?.(c)) {
        const name = JSON.stringify(c.section ?? c.key);
        parts.push(`${key}: from === undefined ? undefined : from[${name}]`);
      } else if (!this.carries(set, c)) {
        parts.push(`${key}: undefined`);
      } else {
        const v = `a[${position}]`;
        const value = c.encoding === 'timestamp' ? `${v} == null ? ${v} : new Date(Number(${v}))` : v;
        parts.push(`${key}: ${value}`);
        position++;
      }
    }
    const decoder = new Function(`return (a, from) => ({ ${parts.join(', ')} });`)() as (
      a: readonly unknown[],
      from?: Readonly<Record<string, unknown>>,
    ) => RowView<R, S>;
    byKey.set(setKey, decoder);
    return decoder;
  }

  /** The key and lookahead columns of a set, by name (e.g. to carry them under other names). */
  carried(set: ColumnSet<S>): ReadColumn[] {
    return this.listed.filter((c) => this.carries(set, c));
  }

  /** The value of a column named `column` of relation `alias`, encoded as `c` is. */
  valueOf(c: ReadColumn, alias: string, column: string): string {
    return valueSql(c, alias, column);
  }

  /**
   * A row of some of the model's columns from their values (decoded), marked
   * as a slice (`SLICE`) when it is not a whole row.
   */
  decodeSlice(
    columns: readonly ReadColumn[],
    values: readonly unknown[],
    base: Record<string, unknown>,
  ): RowView<R, S> {
    const row = base as Record<PropertyKey, unknown>;
    for (let k = 0; k < columns.length; k++) row[columns[k]!.key] = decodeValue(columns[k]!, values[k]);
    if (columns.length < this.lookaheadCount) row[SLICE] = this.name;
    return row as RowView<R, S>;
  }

  /** Whether a row carries every key and lookahead column. */
  isComplete(row: RowView<R, S>): row is RowView<R, S> & FullRow<R, S> {
    const r = row as Record<string, unknown>;
    return this.listed.every((c) => r[c.key] !== undefined);
  }
}

/** Whether a value is a slice (some columns only) of the model named `name`. */
export function isSliceOf(value: object, name: string): boolean {
  return (value as Record<symbol, unknown>)[SLICE] === name;
}
