import type { ReadColumn } from '../db/read-model/model.js';

/**
 * A column of a row that may be a slice (a list read with some columns
 * only, see the read models): the row's own value, or when the row does not
 * carry it, the whole row's (`whole`, through the request's loader). The
 * lookahead makes the lists carry what the query selects, so the loader is a
 * safety net, not a path a query takes.
 */
export function columnOf<Row, K extends keyof Row>(
  row: Partial<Row>,
  key: K,
  whole: () => Promise<Row | null>,
): Row[K] | Promise<Row[K]> {
  const own = row[key];
  if (own !== undefined) return own as Row[K];
  return whole().then((r) => {
    if (!r) throw new Error(`no row for a slice (${String(key)})`);
    return r[key];
  });
}

/**
 * The GraphQL fields that show a column as it is: one per column a read
 * model declares with `api`, named as the column.
 */
export function columnFields<Ref, Shape extends object, Row, Ctx>(
  t: { field: (options: never) => Ref },
  columns: readonly ReadColumn[],
  whole: (row: Shape, ctx: Ctx) => Promise<Row | null>,
): Record<string, Ref> {
  const fields: Record<string, Ref> = {};
  for (const c of columns) {
    if (!c.api) continue;
    const key = c.key as keyof Row;
    fields[c.key] = t.field({
      type: c.api.type,
      nullable: c.api.nullable ?? false,
      description: c.api.description,
      resolve: (row: Shape, _args: unknown, ctx: Ctx) => columnOf(row as Partial<Row>, key, () => whole(row, ctx)),
    } as never);
  }
  return fields;
}
