import { writeFileSync } from 'node:fs';
import { printedSchema, printedSubgraphSchema } from '../graphql/schema.js';

// Writes schema.graphql from the Pothos schema, and schema.federation.graphql, the same as an Apollo Federation
// subgraph (FEDERATION=on); both committed, a test checks they are current.
writeFileSync(new URL('../../schema.graphql', import.meta.url), printedSchema());
writeFileSync(new URL('../../schema.federation.graphql', import.meta.url), printedSubgraphSchema());
console.error('wrote schema.graphql and schema.federation.graphql');
